"""The experiment runner behind recipes/experiment.py, one job per module:

* :mod:`~recipes.runner.arguments`: the experiment file's fields (``ExperimentArguments``), checked
  as they are parsed;
* :mod:`~recipes.runner.steps`: what an arm and a step are, and a step's command line;
* :mod:`~recipes.runner.plan`: the arms resolved into steps, each named by a hash of its config;
* :mod:`~recipes.runner.checks`: a fair comparison, checked before any training starts;
* :mod:`~recipes.runner.state`: run records and locks: what is done, resumes or changed;
* :mod:`~recipes.runner.execute`: running the steps, each in its own process, and stopping them;
* :mod:`~recipes.runner.dry_run`: the plan printed, with a GPU-time estimate;
* :mod:`~recipes.runner.slurm`: sbatch scripts and a submit script with dependencies.
"""
