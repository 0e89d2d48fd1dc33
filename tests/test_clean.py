"""The clean stage: the documented normalisation, sound tags, and the per-cell filters."""

from __future__ import annotations

import pytest

from builder.clean import CellFilter, FilterSettings, clean_text, language_mismatch, normalize


def test_normalisation_keeps_zwnj_and_removes_invisible_marks():
    assert normalize("e\u0301\u200b  x\u200e\ty") == "\u00e9 x y"
    assert normalize("می\u200cخواهم") == "می\u200cخواهم"  # Persian needs ZWNJ


@pytest.mark.parametrize("raw, clean, tags", [
    ("(Applause)", "", 1),
    ("Thank you. (Applause)", "Thank you.", 1),
    ("（掌声）谢谢", "谢谢", 1),
    ("(박수)", "", 1),
    ("♪ la la ♪", "la la", 2),
    ("It was (and I mean this) great, really.", "It was great, really.", 1),
    ("He said (this is a long aside that is not a tag at all) nothing.",
     "He said (this is a long aside that is not a tag at all) nothing.", 0),
    ("Numbers (1.5 percent) stay.", "Numbers (1.5 percent) stay.", 0),
])
def test_sound_tags(raw, clean, tags):
    assert clean_text(raw) == (clean, tags)


def test_cell_filter_reasons():
    f = CellFilter(FilterSettings(), pivot="en")
    assert f.check("de", "", None) == "empty"
    assert f.check("de", "Das ist ein ganz normaler deutscher Satz über Wunden.", "This is an ordinary English sentence about wounds.") is None
    assert f.check("de", "Das ist ein ganz normaler deutscher Satz über Wunden.", None) == "duplicate_in_talk"
    assert f.check("de", "This sentence is plainly written in English and not in German at all.", None) == "langid_mismatch"
    assert f.check("fr", "Oui.", "This is a much longer English sentence than the French one.") == "length_ratio"
    assert f.check("zh-cn", "这是一个关于伤口愈合的句子。", "This is a sentence about wound healing.") is None


def test_language_id_needs_two_detectors_to_agree():
    # cld2 alone calls this French sentence Danish; py3langid disagrees, so it is kept
    assert not language_mismatch("fr", "J'échoue en tant que femme, j'échoue en tant que féministe.", 80)
    assert language_mismatch("fr", "This sentence is plainly written in English and not in French at all.", 80)


def test_length_prior_is_relative_to_the_pivot_language():
    f = CellFilter(FilterSettings(langid=False), pivot="zh-cn")
    chinese = "我们今天用自己的免疫系统来治愈伤口和疤痕。"  # 21 characters
    german = "Wir heilen heute Wunden und Narben mit unserem eigenen Immunsystem."  # 67 characters
    assert f.check("de", german, chinese) is None


def test_a_cell_dropped_for_another_reason_does_not_make_later_ones_duplicates():
    f = CellFilter(FilterSettings(langid=False), pivot="en")
    assert f.check("de", "Ja.", "This is a very long English sentence, far longer than one word.") == "length_ratio"
    assert f.check("de", "Ja.", "Yes.") is None
    assert f.check("de", "Ja.", "Yes.") == "duplicate_in_talk"
    with pytest.raises(ValueError, match="length_ratio"):
        FilterSettings(length_ratio=0.5)
