"""Errors to problems: one table (`problems.PROBLEMS`) looked up by class ancestry, used by the HTTP API and by
the Slack bot alike."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

from service import errors, problems
from service.problems import PROBLEMS, TYPE_PREFIX, ProblemKind, error_response, kind_of, nearest
from service.slack import messages

# One instance of every error class of `service.errors`, with the data its problem sends.
SAMPLES: dict[type[errors.SummarizerError], errors.SummarizerError] = {
    errors.SummarizerError: errors.SummarizerError("internal"),
    errors.InputError: errors.InputError("cannot summarize"),
    errors.EmptyInput: errors.EmptyInput("empty"),
    errors.ConflictingInput: errors.ConflictingInput("text and html"),
    errors.InvalidText: errors.InvalidText("a lone surrogate", field="text"),
    errors.InputTooLarge: errors.InputTooLarge("too large", limit=1_000, size=2_000),
    errors.NoSentences: errors.NoSentences("no sentences"),
    errors.TooManySentences: errors.TooManySentences("too many", limit=10, count=11),
    errors.InvalidOption: errors.InvalidOption("format"),
    errors.NotFound: errors.NotFound("no such summary", summary_id="abc"),
    errors.Unauthorized: errors.Unauthorized("no key"),
    errors.ViewLinkRejected: errors.ViewLinkRejected("the evidence link has expired"),
    errors.ClientRateLimited: errors.ClientRateLimited("slow down", retry_after=1.5),
    errors.UpstreamError: errors.UpstreamError("failed", attempts=2),
    errors.UpstreamRateLimited: errors.UpstreamRateLimited("429", retry_after=7.2, attempts=4),
    errors.UpstreamUnavailable: errors.UpstreamUnavailable("breaker open", attempts=1),
    errors.UpstreamTimeout: errors.UpstreamTimeout("timed out", attempts=3),
    errors.DeadlineExceeded: errors.DeadlineExceeded("deadline", attempts=1),
    errors.UpstreamRejected: errors.UpstreamRejected("401", status_code=401, attempts=1),
    errors.BatchRequestFailed: errors.BatchRequestFailed("expired", code="batch_expired", attempts=1),
    errors.OutputError: errors.OutputError(
        "invalid", violations=[errors.Violation("$.headline", "required", "missing")], attempts=3
    ),
    errors.Refusal: errors.Refusal("refused", refusal="I can't help", attempts=1),
    errors.CacheUnavailable: errors.CacheUnavailable("redis down"),
    errors.UrlForbidden: errors.UrlForbidden("loopback", url="http://127.0.0.1/", address_class="loopback"),
    errors.UrlTooLarge: errors.UrlTooLarge("too large", url="https://a.example/", limit=3_000_000),
    errors.UrlFetchFailed: errors.UrlFetchFailed("404", url="https://a.example/", status_code=404),
    errors.UnsupportedLanguage: errors.UnsupportedLanguage("Arabic", language="ar", engine="extractive"),
    errors.DeliveryError: errors.DeliveryError("failed", slack_error="fatal_error"),
    errors.DeliveryNotConfigured: errors.DeliveryNotConfigured("no token", slack_error="not_configured"),
    errors.DeliveryRefused: errors.DeliveryRefused("archived", slack_error="is_archived"),
    errors.DeliveryRateLimited: errors.DeliveryRateLimited("429", slack_error="ratelimited", retry_after=30),
}

# Error classes without an entry of their own: they take their parent's problem, on purpose.
INHERITING = {errors.CacheUnavailable}


def error_classes() -> set[type[errors.SummarizerError]]:
    return {
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.SummarizerError) and cls.__module__ == errors.__name__
    }


def http_problem(error: errors.SummarizerError) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = error_response(error)
    return response.status_code, json.loads(bytes(response.body)), dict(response.headers)


def quoted(error: errors.SummarizerError) -> str:
    return f"The article could not be summarized: {error.message}."


# --- the lookup ------------------------------------------------------------------------------------


class Root(Exception):
    pass


class Child(Root):
    pass


class Grandchild(Child):
    pass


class GreatGrandchild(Grandchild):
    pass


class Unrelated(Exception):
    pass


@pytest.mark.parametrize(
    "table",
    [
        {Root: "root", Grandchild: "grandchild"},
        {Grandchild: "grandchild", Root: "root"},
    ],
    ids=["parents-first", "children-first"],
)
def test_the_nearest_ancestor_wins_whatever_the_order_of_registration(table: dict[type, str]) -> None:
    assert nearest(table, Root) == "root"
    assert nearest(table, Child) == "root"  # no entry of its own: its parent's
    assert nearest(table, Grandchild) == "grandchild"  # an entry of its own: not its parent's
    assert nearest(table, GreatGrandchild) == "grandchild"
    assert nearest(table, Unrelated) is None


def test_the_problem_table_gives_the_same_answers_in_any_order() -> None:
    backwards = dict(reversed(PROBLEMS.items()))
    assert all(nearest(backwards, type(error)) == kind_of(error) for error in SAMPLES.values())


def test_every_error_class_maps_to_a_problem() -> None:
    assert set(SAMPLES) == error_classes(), "add a sample of each new error class"
    assert set(PROBLEMS) == error_classes() - INHERITING, "give each new error class its problem"
    for cls, error in SAMPLES.items():
        kind = kind_of(error)
        status, body, _ = http_problem(error)  # every member the problem names can be read from the error
        assert (status, body["type"], body["title"]) == (kind.status, kind.type, kind.title), cls
    assert kind_of(SAMPLES[errors.CacheUnavailable]) == problems.INTERNAL


def test_a_subclass_without_an_entry_is_its_parents_problem_over_http_and_in_slack() -> None:
    class Overloaded(errors.UpstreamUnavailable):
        pass

    error = Overloaded("overloaded", retry_after=2.5, attempts=2)
    status, body, headers = http_problem(error)

    assert kind_of(error) == PROBLEMS[errors.UpstreamUnavailable]
    assert (status, body["type"]) == (503, TYPE_PREFIX + "upstream-unavailable")
    assert headers["retry-after"] == "3" and body["retry_after"] == 3 and body["attempts"] == 2
    assert messages.error_message(error) == "The summarizer is unavailable, try again in 3 s."


def test_a_subclass_with_an_entry_is_its_own_problem_over_http_and_in_slack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Stalled(errors.UpstreamUnavailable):
        pass

    monkeypatch.setitem(PROBLEMS, Stalled, ProblemKind(504, "upstream-timeout", "The model timed out"))
    error = Stalled("stalled", retry_after=2.5)
    status, body, headers = http_problem(error)

    assert (status, body["type"]) == (504, TYPE_PREFIX + "upstream-timeout")
    assert "retry-after" not in headers and "retry_after" not in body  # its own problem sends neither
    assert messages.error_message(error) == "The summarizer took too long; try again later."


# --- HTTP and Slack agree --------------------------------------------------------------------------


def test_slack_words_only_problems_the_api_knows() -> None:
    assert set(messages.NOTICES) <= {kind.slug for kind in PROBLEMS.values()}


@pytest.mark.parametrize("error", SAMPLES.values(), ids=lambda error: type(error).__name__)
def test_slack_tells_the_user_about_the_problem_the_api_sends(error: errors.SummarizerError) -> None:
    _, body, _ = http_problem(error)
    slug = body["type"].removeprefix(TYPE_PREFIX)

    notice = messages.NOTICES.get(slug)
    assert messages.error_message(error) == (notice(error) if notice else quoted(error))


# --- what a problem sends --------------------------------------------------------------------------


@pytest.mark.parametrize("error", SAMPLES.values(), ids=lambda error: type(error).__name__)
def test_retry_after_goes_out_as_a_header_and_a_member_or_not_at_all(error: errors.SummarizerError) -> None:
    _, body, headers = http_problem(error)

    if "retry_after" in kind_of(error).members:
        assert headers["retry-after"] == str(body["retry_after"])
    else:
        assert "retry-after" not in headers and "retry_after" not in body


@pytest.mark.parametrize(
    ("seconds", "header"),
    [(None, str(problems.DEFAULT_RETRY_AFTER_S)), (0.2, "1"), (7.2, "8"), (30, "30")],
)
def test_retry_after_is_whole_seconds_rounded_up_with_a_default(seconds: float | None, header: str) -> None:
    for cls in (errors.ClientRateLimited, errors.UpstreamRateLimited, errors.UpstreamUnavailable):
        _, body, headers = http_problem(cls("wait", retry_after=seconds))
        assert headers["retry-after"] == header and body["retry_after"] == int(header), cls


def test_an_error_with_its_cost_is_a_copy() -> None:
    """A model chain adds up what each deployment cost; the error it caught is not changed."""
    caught = errors.UpstreamRejected("bad request", status_code=400, attempts=1, usage=errors.Usage(5, 0))
    counted = errors.with_cost(caught, 3, errors.Usage(15, 2))
    assert (counted.attempts, counted.usage, counted.status_code) == (3, errors.Usage(15, 2), 400)
    assert (caught.attempts, caught.usage) == (1, errors.Usage(5, 0))
    assert type(counted) is errors.UpstreamRejected and counted.message == caught.message
