"""``python -m recipes.tasks CORPUS --directions en-de ...``: build the ted2025_mc task data."""

from recipes.tasks import main

main()
