"""The local-mode memory section: RSS under sustained load, and how fast Ctrl-C ends it."""

from __future__ import annotations

from typing import Any

from bench.doc.base import Doc, Figures, Lines, Section, met, method, num, raw, table, times


def targets(data: Figures, _doc: Doc) -> list[dict[str, Any]]:
    early, late = data["early"], data["late"]
    exited = data["exit_code"] is not None
    return [
        {
            "target": (
                f"local mode under {data['senders']} senders: RSS after "
                f"{num(late['seconds'] / 60)} min ≤ {times(data['target_growth'])} that after "
                f"{num(early['seconds'] / 60)} min"
            ),
            "measured": (
                f"{num(early['rss_mb'])} MB → {num(late['rss_mb'])} MB ({times(data['growth'])})"
            ),
            "met": met(data["growth"], data["target_growth"]),
        },
        {
            "target": f"local mode exits ≤ {num(data['target_exit_seconds'])} s after Ctrl-C",
            "measured": (
                f"{num(data['exit_seconds_after_sigint'])} s, exit code {data['exit_code']}"
                if exited
                else f"still running after {num(data['exit_seconds_after_sigint'])} s"
            ),
            "met": exited and met(data["exit_seconds_after_sigint"], data["target_exit_seconds"]),
        },
    ]


def body(data: Figures, _doc: Doc) -> Lines:
    early, late = data["early"], data["late"]
    rows = [
        (num(s["seconds"]), num(s["rss_mb"]), s["accepted"])
        for s in data["samples"]
        if s is early or s is late or int(s["seconds"]) % 60 == 0
    ]
    per_message = data["kb_per_message_after_early"]
    summary = (
        f"RSS went from {num(data['rss_at_start_mb'])} MB at start to {num(early['rss_mb'])} MB "
        f"after {num(early['seconds'])} s and {num(late['rss_mb'])} MB after "
        f"{num(late['seconds'])} s ({times(data['growth'])}), while {late['accepted']} texts "
        f"were accepted"
        + (
            f": {num(per_message)} KB of RSS per text accepted after the first minute."
            if per_message is not None
            else "."
        )
        + f" Throughput: {num(data['messages_per_second_first_minute'])} texts/s in the first "
        f"minute, {num(data['messages_per_second_last_minute'])} in the last; "
        f"{data['errors']} requests failed; {data['tracebacks_in_log']} tracebacks in the log."
        f" After SIGINT the runtime exited in {num(data['exit_seconds_after_sigint'])} s "
        f"(exit code {data['exit_code']})."
    )
    return [
        method(
            "`python -m local.runtime` (what `make run` starts) runs as a subprocess on a free "
            f"port; {data['senders']} threads post signed inbound Twilio webhooks without pause "
            f"for {num(data['seconds'])} s, each from its own fictional numbers. The runtime's "
            f"VmRSS is read every {num(data['sample_every_s'])} s with the count of texts "
            "accepted so far (every accepted text is stored: local mode keeps the table in "
            "memory, as moto does). Then, with the senders still sending, the runtime gets "
            "SIGINT (Ctrl-C) and the time until its process has exited is measured."
        ),
        "",
        table(("Seconds", "RSS MB", "Texts accepted"), rows),
        "",
        summary,
        "",
    ]


SECTION = Section("memory", "Local mode under sustained load", raw("memory"), body, targets)
