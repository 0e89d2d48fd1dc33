"""The language registry: codes, aliases, subset names, and the cld2 and length priors."""

from __future__ import annotations

import itertools
import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder import languages as L
from builder.languages import (
    ALIASES,
    CJK_SCRIPTS,
    CODES,
    LANGUAGES,
    Language,
    UnknownLanguageError,
    get,
    parse_subset,
    subset_name,
)


def codes(langs):
    return [lang.code for lang in langs]


# --- the table ---------------------------------------------------------------------------------


def test_registry_covers_ted_languages():
    assert len(LANGUAGES) >= 113
    assert LANGUAGES[0].code == "en"
    assert CODES == tuple(codes(LANGUAGES))


def test_codes_and_names_are_unique():
    assert len(set(CODES)) == len(CODES)
    assert len({lang.ted_code for lang in LANGUAGES}) == len(LANGUAGES)
    assert len({lang.name for lang in LANGUAGES}) == len(LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES, ids=CODES)
def test_fields_are_well_formed(lang):
    assert re.fullmatch(r"[a-z]{2,3}(-[a-z]{2,4})?", lang.code)
    assert lang.iso639_1 is None or re.fullmatch(r"[a-z]{2}", lang.iso639_1)
    assert re.fullmatch(r"[a-z]{3}", lang.iso639_3)
    assert re.fullmatch(r"[A-Z][a-z]{3}", lang.script)
    assert lang.name and lang.name == lang.name.strip()


def test_language_is_frozen():
    with pytest.raises(AttributeError):
        LANGUAGES[0].code = "xx"  # type: ignore[misc]


def test_ted_codes_from_teds_published_list_are_all_known():
    # TED's subtitle-language list (ted.com, name -> code), plus the newer Kurdish split on hls.ted.com.
    ted_list = (
        "af sq arq am ar hy as ast az eu be bn bi bs bg my ca ceb zh-cn zh-tw zh ht hr cs da nl dz en eo "
        "et fil fi fr fr-ca gl ka de el gu cnh ha he hi hu hup is ig id inh ga it ja kn kk km tlh ko ku "
        "ky lo ltg la lv lt lb rup mk mg ms ml mt mr mfe mn srp ne nb nn oc ps fa pl pt pt-br pa ro ru "
        "ry sc sr sh szl si sk sl so es sw sv tl tg ta tt te th bo aeb tr tk uk ur ug uz vi ckb kmr"
    ).split()
    assert [code for code in ted_list if L.from_ted(code).ted_code not in (code, "kmr")] == []


def test_cjk_scripts_are_used_by_the_cjk_languages():
    assert {get(c).script for c in ("zh-cn", "zh-tw", "ja", "ko", "yue")} <= CJK_SCRIPTS
    cjk = {lang.code for lang in LANGUAGES if lang.script in CJK_SCRIPTS}
    assert cjk == {"zh-cn", "zh-tw", "ja", "ko", "yue"}


def test_popularity_rank():
    assert L.rank("en") == 0
    assert L.rank("zh") == L.rank("zh-cn") == CODES.index("zh-cn")
    assert L.rank("es") < L.rank("sw") < L.rank("hup")
    assert sorted(L.POPULARITY_RANK.values()) == list(range(len(LANGUAGES)))


# --- get() and aliases -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("zh", "zh-cn"),
        ("ZH_CN", "zh-cn"),
        ("zh-Hans", "zh-cn"),
        ("zh_hans", "zh-cn"),
        ("cmn", "zh-cn"),
        ("zh-Hant", "zh-tw"),
        ("pt", "pt"),
        ("pt-PT", "pt"),
        ("pt_BR", "pt-br"),
        ("PT-br", "pt-br"),
        ("iw", "he"),
        ("in", "id"),
        ("no", "nb"),
        ("fr-FR", "fr"),
        ("es-ES", "es"),
        ("fil", "fil"),
        ("tl", "tl"),
        ("ku", "kmr"),
        ("ckb", "ckb"),
        ("deu", "de"),
        ("swh", "sw"),
        ("swa", "sw"),
        ("hbs", "sh"),
        ("cnr", "srp"),
        ("srp", "srp"),  # TED's code for Montenegrin beats ISO 639-3 srp (Serbian)
        ("yue", "yue"),
        ("  en \n", "en"),
    ],
)
def test_get_resolves_spellings(spelling, code):
    assert get(spelling).code == code


def test_every_language_resolves_by_its_codes():
    for lang in LANGUAGES:
        assert get(lang.code) is lang
        assert get(lang.code.upper().replace("-", "_")) is lang
        assert L.from_ted(lang.ted_code) is lang
        assert get(lang) is lang
        if lang.ted_code != "zh":
            assert get(lang.ted_code) is lang


def test_zh_is_simplified_chinese_for_users_but_cantonese_in_ted_data():
    assert get("zh").code == "zh-cn"
    assert L.from_ted("zh").code == "yue"
    assert L.from_ted("zh").iso639_3 == "yue"
    assert L.from_ted("ku") is get("kmr")
    with pytest.raises(UnknownLanguageError):
        L.from_ted("zh-hans")  # an alias, not a TED code


def test_unambiguous_iso_codes_resolve_to_their_language():
    for field in ("iso639_1", "iso639_3"):
        owners = {}
        for lang in LANGUAGES:
            owners.setdefault(getattr(lang, field), []).append(lang)
        for iso, langs in owners.items():
            if iso is not None and len(langs) == 1 and iso not in CODES:
                assert get(iso) is langs[0], (field, iso)


def test_aliases_point_at_codes_and_never_shadow_one():
    assert ALIASES
    assert set(ALIASES.values()) <= set(CODES)
    assert not set(ALIASES) & set(CODES)
    for alias in ALIASES:
        assert alias == alias.strip().lower().replace("_", "-")


def test_is_known():
    assert L.is_known("pt_BR")
    assert not L.is_known("zz")
    assert not L.is_known("")
    assert not L.is_known(None)  # type: ignore[arg-type]
    assert not L.is_known("\u212ao")  # KELVIN SIGN lower-cases to "k"; not a spelling of "ko"


def test_unknown_code_suggests_close_codes():
    with pytest.raises(UnknownLanguageError) as info:
        get("zh-cm")
    err = info.value
    assert isinstance(err, ValueError)
    assert err.code == "zh-cm"
    assert err.suggestions[0] == "zh-cn"
    assert 1 <= len(err.suggestions) <= 5
    assert "'zh-cm'" in str(err) and "zh-cn" in str(err) and "ted2025 languages" in str(err)


@pytest.mark.parametrize(
    ("typo", "expected"), [("germn", "de"), ("cantonese", "yue"), ("kurdish", "ckb"), ("pt-bt", "pt-br")]
)
def test_suggestions_use_names_and_aliases(typo, expected):
    with pytest.raises(UnknownLanguageError) as info:
        get(typo)
    assert expected in info.value.suggestions


def test_unknown_language_error_survives_pickling():
    original = UnknownLanguageError("zh-cm")
    copy = pickle.loads(pickle.dumps(original))
    assert (copy.code, copy.suggestions, str(copy)) == (original.code, original.suggestions, str(original))


def test_bad_input_types():
    with pytest.raises(UnknownLanguageError):
        get("")
    with pytest.raises(TypeError):
        get(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        L.resolve("en-de")


@settings(max_examples=500)
@given(st.text())
def test_get_on_any_text_returns_a_language_or_raises_unknown(text):
    try:
        assert isinstance(get(text), Language)
    except UnknownLanguageError as err:
        assert err.code == text


@settings(max_examples=500)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCZ-_+, ", max_size=20))
def test_parse_subset_on_code_like_text_returns_languages_or_raises_value_error(text):
    try:
        langs = parse_subset(text)
    except ValueError:
        return
    assert langs and len({lang.code for lang in langs}) == len(langs)


# --- resolve(), parse_subset(), subset_name() ----------------------------------------------------


def test_resolve_keeps_order_and_rejects_the_same_language_twice():
    assert codes(L.resolve(["sw", "EN", "zh_CN"])) == ["sw", "en", "zh-cn"]
    with pytest.raises(ValueError, match=r"'zh'.*'zh-cn'") as info:
        L.resolve(["zh", "de", "zh-cn"])
    assert not isinstance(info.value, UnknownLanguageError)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("en-zh-sw", ["en", "zh-cn", "sw"]),
        ("en-zh-cn-sw", ["en", "zh-cn", "sw"]),
        ("sw-en-zh", ["sw", "en", "zh-cn"]),
        ("en-pt-br-de", ["en", "pt-br", "de"]),
        ("en-pt-de", ["en", "pt", "de"]),
        ("en+pt-br", ["en", "pt-br"]),
        ("en,zh-cn", ["en", "zh-cn"]),
        (" en + zh-tw , de ", ["en", "zh-tw", "de"]),
        ("EN-PT_BR-De", ["en", "pt-br", "de"]),
        ("en-fr-ca", ["en", "fr-ca"]),  # longest match: French (Canada)
        ("fr+ca", ["fr", "ca"]),  # '+' keeps French and Catalan apart
        ("pt-pt-br", ["pt", "pt-br"]),  # "pt-pt" would leave "br" unparsable, so back off
        ("fr-fr-ca", ["fr", "ca"]),  # the alias fr-fr, then Catalan
        ("en-zh-hant-ja", ["en", "zh-tw", "ja"]),
        ("yue-zh", ["yue", "zh-cn"]),
        ("en", ["en"]),
    ],
)
def test_parse_subset(spec, expected):
    assert codes(parse_subset(spec)) == expected


@pytest.mark.parametrize("spec", ["en-en", "zh-zh-cn", "zh-cn-zh", "en+EN", "pt-br-pt_BR", "iw-he"])
def test_parse_subset_rejects_duplicates(spec):
    with pytest.raises(ValueError, match="twice") as info:
        parse_subset(spec)
    assert not isinstance(info.value, UnknownLanguageError)


@pytest.mark.parametrize(
    ("spec", "token"),
    [("en-xx-de", "xx"), ("en+zz-cn", "zz-cn"), ("qq", "qq"), ("en-de-XX", "XX"), ("pt-pt-bx", "bx")],
)
def test_parse_subset_names_the_unknown_token(spec, token):
    with pytest.raises(UnknownLanguageError) as info:
        parse_subset(spec)
    assert info.value.code == token
    assert repr(token) in str(info.value)


@pytest.mark.parametrize("spec", ["", "   ", "en--de", "-en", "en-", "en+", "en,,de", "+"])
def test_parse_subset_rejects_empty_parts(spec):
    with pytest.raises(ValueError):
        parse_subset(spec)


def test_subset_name():
    assert subset_name([get("en"), get("zh"), get("sw")]) == "en-zh-cn-sw"
    assert subset_name(["pt_BR", "de"]) == "pt-br-de"
    assert subset_name(["fr", "ca"]) == "fr+ca"
    assert subset_name(["ca", "fr"]) == "ca-fr"
    assert subset_name(["fr", "fr-ca"]) == "fr+fr-ca"
    with pytest.raises(ValueError):
        subset_name([])
    with pytest.raises(ValueError):
        subset_name(["zh", "zh-cn"])


def test_every_pair_of_languages_round_trips_through_its_subset_name():
    for a, b in itertools.permutations(LANGUAGES, 2):
        assert parse_subset(subset_name([a, b])) == [a, b]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=12, unique=True))
def test_subset_name_round_trips(langs):
    name = subset_name(langs)
    assert parse_subset(name) == langs
    assert parse_subset(name.upper()) == langs


# --- cld2 and length priors --------------------------------------------------------------------


def test_cld2_codes_use_pycld2_spellings():
    pycld2 = pytest.importorskip("pycld2")
    detected_names = set(pycld2.DETECTED_LANGUAGES)
    detectable = {code for name, code in pycld2.LANGUAGES if name in detected_names}
    for lang in LANGUAGES:
        assert L.cld2_codes(lang) <= detectable, lang.code
    assert "en" in L.cld2_codes("en")
    assert {"zh", "zh-Hant"} <= L.cld2_codes("zh") == L.cld2_codes("zh-tw")
    assert {"hr", "sr", "bs"} <= L.cld2_codes("sh")
    assert L.cld2_codes("inh") == frozenset()  # cld2 does not know Ingush: the caller skips the check


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("he", "אנשים אוהבים את המכוניות שלהם, הן מאפשרות לנו להגיע לאן שנרצה ובזמן שנרצה."),
        ("en", "People love their automobiles; they let us go wherever we want, whenever we want."),
    ],
)
def test_cld2_detects_a_sentence_as_one_of_the_languages_codes(code, sentence):
    pycld2 = pytest.importorskip("pycld2")
    _, _, details = pycld2.detect(sentence)
    assert details[0][1] in L.cld2_codes(code)


def _vtt_text(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    return " ".join(line.strip() for line in lines if line.strip() and line != "WEBVTT" and "-->" not in line)


@pytest.mark.real_data
def test_cld2_agrees_with_real_ted_subtitles(vtt_dir):
    pycld2 = pytest.importorskip("pycld2")
    tracks = sorted(vtt_dir.glob("*/*.vtt"))
    assert tracks
    for track in tracks:
        lang = L.from_ted(track.name.removesuffix(".vtt"))
        if L.cld2_codes(lang):
            _, _, details = pycld2.detect(_vtt_text(track))
            assert details[0][1] in L.cld2_codes(lang), (track, details[0])


def test_chars_per_en_char_is_a_rough_prior():
    ratio = L.chars_per_en_char
    assert ratio("en") == 1.0
    assert ratio("zh") < ratio("ja") < ratio("ko") < ratio("th") < 1.0 <= ratio("de")
    assert all(0.2 <= ratio(lang) <= 1.5 for lang in LANGUAGES)


def test_table_lists_every_language():
    lines = L.table().splitlines()
    assert len(lines) == len(LANGUAGES) + 1
    assert lines[0].split() == ["#", "code", "ted", "iso639-1", "iso639-3", "script", "name"]
    for line, lang in zip(lines[1:], LANGUAGES):
        assert line.split()[1] == lang.code and line.endswith(lang.name)
