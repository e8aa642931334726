"""Opt-out, opt-in and help keywords in inbound texts, and the replies we owe for them.

Only a whole message counts ("STOP", "stop!", " Opt  Out. "), never a word inside a
sentence: "stop calling me after 5" is a client talking, and goes to the inbox.
"""

from __future__ import annotations

from enum import StrEnum


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# Union of AWS's default opt-out list (ARRET, CANCEL, END, OPT-OUT, OPTOUT, QUIT, REMOVE,
# STOP, TD, UNSUBSCRIBE), Twilio's (adds STOPALL, REVOKE) and the FCC's "opt out".
# ARRÊT is how a French speaker actually writes ARRET.
_OPT_OUT = (
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "revoke",
    "optout",
    "opt-out",
    "opt out",
    "arret",
    "arrêt",
    "remove",
    "td",
)
# YES is deliberately absent: it answers questions ("are we still on for 3?").
_OPT_IN = ("start", "unstop")
_HELP = ("help", "info")

_KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(_OPT_OUT, Keyword.OPT_OUT),
    **dict.fromkeys(_OPT_IN, Keyword.OPT_IN),
    **dict.fromkeys(_HELP, Keyword.HELP),
}
_TRAILING_PUNCTUATION = ".!?,;:"


def _normalize(body: str) -> str:
    collapsed = " ".join(body.split())
    return collapsed.rstrip(_TRAILING_PUNCTUATION).rstrip().casefold()


def classify(body: str) -> Keyword | None:
    """The keyword this whole message is, ignoring case, spacing and trailing punctuation."""
    if not isinstance(body, str):
        return None
    return _KEYWORDS.get(_normalize(body))


def default_replies(practice_name: str, support_contact: str) -> dict[str, str]:
    """The built-in HELP / STOP / START wordings, keyed as the settings name them."""
    return {
        "help_reply": default_reply(Keyword.HELP, practice_name, support_contact),
        "stop_reply": default_reply(Keyword.OPT_OUT, practice_name, support_contact),
        "start_reply": default_reply(Keyword.OPT_IN, practice_name, support_contact),
    }


def default_reply(keyword: Keyword, practice_name: str, support_contact: str) -> str:
    """The carrier-required answer to a keyword, in GSM-7.

    One segment for names up to 69 characters (STOP, START) and, for HELP, while name plus
    support contact stay within 61; longer ones simply cost a second segment.
    """
    if keyword is Keyword.OPT_OUT:
        # Must name the program and confirm that nothing more will be sent.
        return (
            f"You're unsubscribed from {practice_name} texts. No more messages will be sent. "
            "Reply START to resubscribe."
        )
    if keyword is Keyword.OPT_IN:
        return (
            f"You're resubscribed to {practice_name} texts. Reply STOP to opt out, HELP for help."
        )
    # HELP must name the program, give a contact, frequency, rates and how to stop.
    return (
        f"{practice_name}: for help call or visit {support_contact}. "
        "Msg & data rates may apply. Msg frequency varies. Reply STOP to opt out."
    )
