"""The crisis-phrase matcher: categories, idioms, quotation, negation, practice edits, corpus."""

from __future__ import annotations

import pytest

from bench.crisis import evaluate, load_corpus
from bench.doc.crisis import FPR_CEILING, RECALL_FLOOR
from functions.core.errors import ValidationError
from functions.logic.crisis import CrisisCategory, CrisisMatcher, CrisisPhrases, validate_phrases

pytestmark = pytest.mark.unit

MATCHER = CrisisMatcher()


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I want to KILL MYSELF", CrisisCategory.SUICIDE),
        ("i've started cutting again", CrisisCategory.SELF_HARM),
        ("I'm going to hurt someone today", CrisisCategory.HARM_TO_OTHERS),
        ("My husband hits me when he drinks", CrisisCategory.ABUSE),
    ],
)
def test_given_a_crisis_phrase_of_each_category_then_it_is_flagged_with_that_category(
    text: str, category: CrisisCategory
) -> None:
    found = MATCHER.check(text)
    assert found is not None and found.category is category


def test_given_a_phrase_written_without_apostrophes_or_with_curly_ones_then_both_match() -> None:
    assert MATCHER.check("i dont want to be alive") is not None
    assert MATCHER.check("I don\u2019t want to be alive") is not None


@pytest.mark.parametrize(
    "text",
    [
        "This homework is killing me",
        "I could kill for a coffee right now",
        "My boss is going to murder me if I'm late",
        "My mom will kill me if I forget her birthday again",
        "I'd rather die than sit through another staff meeting",
        "Hit me up when you have a free slot",
    ],
)
def test_given_an_idiom_or_hyperbole_then_nothing_is_flagged(text: str) -> None:
    assert MATCHER.check(text) is None


def test_given_a_threat_with_a_condition_about_telling_then_it_is_still_flagged() -> None:
    # "if I'm late" is hyperbole; "if I tell anyone" is how abusers threaten.
    found = MATCHER.check("She said she'll kill me if I tell anyone")
    assert found is not None and found.category is CrisisCategory.ABUSE


def test_given_a_phrase_quoted_from_a_named_song_then_it_is_not_flagged() -> None:
    assert MATCHER.check("The song goes 'I want to die in your arms' and it's stuck") is None


def test_given_quoted_speech_with_no_work_named_then_it_is_flagged() -> None:
    found = MATCHER.check('He said "I\'ll kill you" and slammed the door')
    assert found is not None and found.category is CrisisCategory.HARM_TO_OTHERS


def test_given_a_negated_statement_then_it_is_flagged_and_marked_negated() -> None:
    found = MATCHER.check("I'm not going to kill myself, I just needed to say it")
    assert found is not None and found.negated


def test_given_a_negator_in_an_earlier_clause_then_the_match_is_not_marked_negated() -> None:
    found = MATCHER.check("I can't sleep. I want to kill myself")
    assert found is not None and not found.negated


def test_given_a_practice_list_for_a_category_then_it_replaces_that_categorys_phrases() -> None:
    matcher = CrisisMatcher(CrisisPhrases({CrisisCategory.SUICIDE: ("see the lighthouse",)}))
    assert matcher.check("I'm going to go see the lighthouse tonight") is not None
    assert matcher.check("I want to kill myself") is None
    # Other categories keep the built-in list.
    assert matcher.check("He beat me again") is not None


def test_given_an_unknown_category_when_validated_then_it_is_refused() -> None:
    with pytest.raises(ValidationError):
        validate_phrases({"sadness": ["blue"]})


def test_given_a_phrase_of_punctuation_only_when_validated_then_it_is_refused() -> None:
    with pytest.raises(ValidationError):
        validate_phrases({"suicide": ["?!"]})


def test_given_the_labelled_corpus_then_recall_and_false_positives_meet_the_thresholds() -> None:
    # Thresholds argued in docs/crisis.md: the net must catch nine in ten explicit messages,
    # and page for at most one in twenty ordinary ones (a corpus rich in hard negatives).
    corpus = load_corpus()
    assert len(corpus) >= 200
    result = evaluate(MATCHER, corpus)
    assert result.recall >= RECALL_FLOOR, [m.text for m in result.misses]
    assert result.false_positive_rate <= FPR_CEILING, [m.text for m in result.false_positives]


def test_given_the_corpus_then_every_crisis_category_and_hard_negatives_are_present() -> None:
    result = evaluate(MATCHER, load_corpus())
    assert set(result.crisis_total) == {c.value for c in CrisisCategory}
    assert result.ordinary_total["hard_negative"] >= 50
