"""Crisis safety net: does an inbound text contain a crisis phrase? Best effort, not monitoring.

A phrase list per category (suicide, self-harm, harm to others, abuse), editable by the
practice, matched on whole words after normalising case, apostrophes and punctuation.
Two built-in filters keep ordinary speech out (docs/crisis.md):

- idioms and hyperbole ("this homework is killing me", "I could kill for a coffee", "my
  boss will murder me if I'm late", "I'd rather die than sit through that"): a match that
  one of the idiom patterns covers is dropped;
- quotation of a work ("that Sia song goes 'I want to die'"): a match inside quotes is
  dropped only when the text also names a song, book, film, poem or the like; quoted
  speech ("he said 'I'll kill you'") still counts.

Negation is detected and reported but never suppresses a match. "I'm not going to kill
myself" is flagged: someone rarely writes it unless it is in question, clinicians treat a
denial as a reason to ask, and the costs are lopsided (a needless page costs a clinician a
minute; a missed crisis can cost a life). The client gets resources either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class CrisisCategory(StrEnum):
    SUICIDE = "suicide"
    SELF_HARM = "self_harm"
    HARM_TO_OTHERS = "harm_to_others"
    ABUSE = "abuse"


# Written as people text: apostrophes are optional ("dont" matches "don't"), case is
# ignored, and words may be joined by spaces or hyphens.
DEFAULT_PHRASES: dict[CrisisCategory, tuple[str, ...]] = {
    CrisisCategory.SUICIDE: (
        "kill myself",
        "killing myself",
        "kill herself",
        "kill himself",
        "kill themselves",
        "kms",
        "unalive myself",
        "end my life",
        "ending my life",
        "end it all",
        "take my own life",
        "take my life",
        "suicide",
        "suicidal",
        "want to die",
        "wanna die",
        "wants to die",
        "ready to die",
        "wish i was dead",
        "wish i were dead",
        "better off dead",
        "better off without me",
        "dont want to live",
        "dont want to be alive",
        "dont want to be here anymore",
        "no reason to live",
        "nothing to live for",
        "cant go on",
        "cant do this anymore",
        "not be here tomorrow",
        "overdose",
        "overdosed",
        "took too many",
        "taking my life",
        "want to live anymore",
        "od on",
        "hang myself",
        "shoot myself",
        "jump off a bridge",
        "jump off the bridge",
        "jump in front of a train",
        "say goodbye to everyone",
        "wrote a note",
        "written my note",
    ),
    CrisisCategory.SELF_HARM: (
        "cut myself",
        "cutting myself",
        "cutting again",
        "started cutting",
        "cut again",
        "hurt myself",
        "hurting myself",
        "harm myself",
        "harming myself",
        "self harm",
        "self harming",
        "selfharm",
        "burn myself",
        "burned myself",
        "burning myself",
        "myself on purpose",
        "punish myself",
        "scratch until i bleed",
        "make myself bleed",
        "starve myself",
        "starving myself",
    ),
    CrisisCategory.HARM_TO_OTHERS: (
        "kill him",
        "kill her",
        "kill them",
        "kill you",
        "kill someone",
        "kill somebody",
        "kill everyone",
        "kill my mom",
        "kill my dad",
        "kill my stepdad",
        "kill my stepmom",
        "kill my husband",
        "kill my wife",
        "kill my boss",
        "kill my ex",
        "hurting my kids",
        "hurting my baby",
        "hurting somebody",
        "hurting someone",
        "bringing my gun",
        "bringing a gun",
        "hurt him",
        "hurt her",
        "hurt them",
        "hurt someone",
        "hurt somebody",
        "hurt my baby",
        "hurt my kids",
        "hurt the baby",
        "shoot him",
        "shoot her",
        "shoot them",
        "shoot up",
        "stab him",
        "stab her",
        "stab them",
        "bring a gun",
        "bring my gun",
        "make them pay",
        "make him pay",
        "make her pay",
        "strangle him",
        "strangle her",
    ),
    CrisisCategory.ABUSE: (
        "hits me",
        "hit me",
        "beats me",
        "beat me",
        "beating me",
        "choked me",
        "chokes me",
        "strangled me",
        "kicked me",
        "slapped me",
        "pushed me down",
        "threw me",
        "kill me",
        "hurts me",
        "hurt me",
        "abusing me",
        "abuses me",
        "abused me",
        "raped me",
        "raped",
        "grabbed me by the neck",
        "grabbed me by the throat",
        "rape",
        "molested",
        "touched me",
        "touches me",
        "afraid to go home",
        "scared to go home",
        "not safe at home",
        "dont feel safe",
        "locked me in",
        "wont let me leave",
        "took my phone and keys",
    ),
}

# Idioms and hyperbole. A match lying inside one of these spans is dropped; the patterns
# run over the normalised text (lower case, no apostrophes, single spaces).
_IDIOMS = tuple(
    re.compile(p)
    for p in (
        r"\b(kill|murder|strangle) (me|him|her|them|you) (if|when|for|once) (i|im|he|she|they|"
        r"you|we)( \w+){0,3} (late|forget|forgot|miss|missed|fail|failed|spill|spilled|break|"
        r"broke|lose|lost|finds out|find out|sees|see|eat|ate|drink|drank|wear|wore|"
        r"spoil|spoiled|show up|dont show up|dont call|dont text)\b",
        r"\bkill (for|time|it|the lights|the engine|the vibe|the mood|the bug|the process|"
        r"a bottle|a pizza|the spider|that spider|the weeds)\b",
        r"\b(is|are|was|were|its|theyre|shes|hes|thats|this|these|those) killing me\b",
        r"\bkilling (it|time)\b",
        r"\b(killed|kill) it\b",
        r"\b(want to|wanna|could|gonna|going to|will|might) die (of|from|laughing|"
        r"when|if|a little)\b",
        r"\bdie (of|from) (embarrassment|shame|boredom|laughter|cringe|cuteness|happiness)\b",
        r"\b(dying|die|died) (to|for|laughing|of laughter|inside)\b",
        r"\bto die for\b",
        r"\b(just )?kill me now\b",
        r"\brather die than\b",
        r"\b(mom|mum|dad|mother|father|boss|teacher|coach|sister|brother|wife|husband|"
        r"partner|friend|roommate|grandma|manager|professor|landlord)( \w+){0,3} (is|will|"
        r"gonna|going to|would|is going to|will literally|is gonna)( \w+){0,2} (kill|murder) "
        r"me (if|when|for)\b",
        r"\b(hit|hits|hitting) me up\b",
        r"\bhit me (with|back|later)\b",
        r"\b(it|this|that) (finally|really|suddenly|just) hit me\b",
        r"\b(traffic|rain|storm|hurricane|wave|cold|flu|virus|covid|migraine|headache|"
        r"heat|reality|nostalgia|it|this|that|the news|the bill|tax|taxes) (hit|hits|beat|"
        r"beats) me\b",
        r"\b(beat|beats) me (at|to|in|by)\b",
        r"\bbeat me to it\b",
        r"\bhurt me (to|so bad to) (say|admit|hear|watch|see|leave|laugh)\b",
        r"\b(my|the) (back|knee|feet|foot|head|tooth|neck|shoulder|stomach|eyes|ankle|"
        r"wrist|hip|arm|leg|legs|throat|ear|hand|hands|shoes|boots) (hurts|hurt|is killing) me\b",
        r"\bshoot (him|her|them) (a|an) (text|email|message|note|line|dm)\b",
        r"\bshoot up( \w+){0,2} (text|email|message|flare|request|note)\b",
        r"\bsuicide (squad|prevention|hotline)\b",
        r"\boverdose (of|on) (sugar|caffeine|cuteness|coffee|candy|netflix|tv|sun)\b",
        r"\bod on (sugar|caffeine|coffee|candy|netflix|pizza|chocolate)\b",
        r"\bkms (lol|lmao|haha)\b",
        r"\btouched me (deeply|so much|a lot)\b",
        r"\b(you|that|it|this|message|song|movie|book|card|gift)( \w+)? touched me\b",
        r"\b(cut|cutting) (myself|again) (a|some|off|back|down|short|loose|out)\b",
        r"\bcut myself (shaving|cooking|chopping|on|with a knife while|slicing|opening)\b",
        r"\bthrew me (a|off|for)\b",
        r"\bhurt myself (playing|running|lifting|at the gym|skiing|hiking|falling|at work)\b",
        r"\bburn(ed|t)? myself (on the|with the|cooking|baking|ironing)\b",
    )
)

# A quoted span, straight or curly double quotes or single quotes at word boundaries.
_QUOTED = re.compile(r"\"[^\"]{1,200}\"|(?<![a-z])'[^']{1,200}'(?![a-z])")
_WORK_WORDS = re.compile(
    r"\b(song|songs|lyric|lyrics|album|track|sings|singing|book|novel|chapter|poem|poetry|"
    r"movie|film|show|episode|series|play|quote|quoting|line from|title|game|podcast|"
    r"article|essay|reading|read that|character|scene)\b"
)
_NEGATORS = frozenset(
    {
        "not",
        "never",
        "no",
        "dont",
        "wont",
        "cant",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "didnt",
        "wouldnt",
        "shouldnt",
        "nor",
        "without",
        "nothing",
        "neither",
    }
)
_CLAUSE_BREAK = re.compile(r"[.!?;,]|\bbut\b")
_APOSTROPHES = str.maketrans({"\u2019": "", "\u2018": "", "'": "", "`": ""})
_CURLY_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"'})
# Phrases a practice edits are plain text (never regular expressions: no ReDoS, no
# surprises); these bounds keep one tenant's list from slowing every inbound text.
MAX_PHRASES = 400
MAX_PHRASE_CHARS = 60


@dataclass(frozen=True)
class CrisisMatch:
    category: CrisisCategory
    phrase: str
    negated: bool  # a negator shortly before it ("not", "never", "don't"): still flagged


@dataclass(frozen=True)
class CrisisPhrases:
    """The practice's list; a category left out uses the built-in phrases."""

    phrases: Mapping[CrisisCategory, tuple[str, ...]] = field(default_factory=dict)

    def effective(self) -> dict[CrisisCategory, tuple[str, ...]]:
        return {c: tuple(self.phrases.get(c, DEFAULT_PHRASES[c])) for c in CrisisCategory}


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped ("don't" -> "dont"), other punctuation kept as a
    single character between spaces so clause breaks survive, whitespace collapsed."""
    lowered = text.translate(_CURLY_QUOTES).lower()
    # Apostrophes inside words go ("don't"); a quote mark at a word's edge stays.
    lowered = re.sub(r"(?<=[a-z])['\u2019`](?=[a-z])", "", lowered).translate(
        {ord("\u2018"): "'", ord("\u2019"): "'"}
    )
    lowered = re.sub(r"[-_/]+", " ", lowered)
    return re.sub(r"\s+", " ", lowered).strip()


def _phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    words = re.findall(r"[a-z0-9]+", phrase.translate(_APOSTROPHES).lower())
    if not words:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])")


class CrisisMatcher:
    """Compiled once per phrase list (a warm Lambda keeps it per tenant)."""

    def __init__(self, phrases: CrisisPhrases | None = None) -> None:
        effective = (phrases or CrisisPhrases()).effective()
        self._patterns: list[tuple[CrisisCategory, str, re.Pattern[str]]] = []
        for category, listed in effective.items():
            for phrase in listed:
                pattern = _phrase_pattern(phrase)
                if pattern is not None:
                    self._patterns.append((category, phrase, pattern))

    def check(self, text: str) -> CrisisMatch | None:
        """The first crisis phrase the text holds that no filter drops; None if none."""
        normal = normalise(text)
        if not normal:
            return None
        idioms = [m.span() for p in _IDIOMS for m in p.finditer(normal)]
        quoted = [m.span() for m in _QUOTED.finditer(normal)] if _WORK_WORDS.search(normal) else []
        for category, phrase, pattern in self._patterns:
            for found in pattern.finditer(normal):
                span = found.span()
                if _inside(span, idioms) or _inside(span, quoted):
                    continue
                return CrisisMatch(category, phrase, _negated(normal, span[0]))
        return None


def _inside(span: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in spans)


def _negated(normal: str, start: int) -> bool:
    clause = _CLAUSE_BREAK.split(normal[:start])[-1]
    return any(word in _NEGATORS for word in clause.split()[-5:])


def validate_phrases(phrases: Mapping[str, Iterable[str]]) -> CrisisPhrases:
    """A practice's edited list, checked: known categories, plain phrases, bounded size."""
    from functions.core.errors import ValidationError  # noqa: PLC0415 - keeps this module pure

    known = {c.value: c for c in CrisisCategory}
    checked: dict[CrisisCategory, tuple[str, ...]] = {}
    total = 0
    for name, listed in phrases.items():
        if name not in known:
            raise ValidationError("crisis.phrases", "categories are " + ", ".join(known))
        cleaned = tuple(dict.fromkeys(p.strip() for p in listed if p.strip()))
        for phrase in cleaned:
            if len(phrase) > MAX_PHRASE_CHARS or _phrase_pattern(phrase) is None:
                raise ValidationError(
                    "crisis.phrases", f"each phrase is 1 to {MAX_PHRASE_CHARS} characters of words"
                )
        total += len(cleaned)
        checked[known[name]] = cleaned
    if total > MAX_PHRASES:
        raise ValidationError("crisis.phrases", f"at most {MAX_PHRASES} phrases in all")
    return CrisisPhrases(checked)
