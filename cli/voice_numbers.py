"""`quietline numbers voice`: how to get a Chime SDK voice number for the AWS carrier.

Prints the steps only: ordering a number bills the account and porting needs an LOA, so
the operator runs them deliberately (docs/voice.md, "AWS (Chime SDK)"). The stack makes
the SIP media application and each number's SIP rule; it never orders or releases a number.
"""

from __future__ import annotations

import click

# Product type of a number that triggers a SIP media application (CreatePhoneNumberOrder).
PRODUCT_TYPE = "SipMediaApplicationDialIn"


def voice_setup_steps(tenant: str, country: str, area_code: str | None) -> list[str]:
    search = (
        "aws chime-sdk-voice search-available-phone-numbers"
        f" --country {country} --phone-number-type Local"
        + (f" --area-code {area_code}" if area_code else "")
        + " --max-results 5"
    )
    return [
        "Check first: AWS closed Chime SDK SIP media applications to new customers on"
        " 2026-10-29 (existing customers continue). If this account had none before then,"
        " this path is closed to it: use the Twilio carrier for voice.",
        "An End User Messaging SMS number cannot take Chime SDK calls: voice needs a second"
        " number (or use the Twilio carrier, where one number does both).",
        f"1. Find a number: {search}",
        "2. Order it (this bills the account, about $1 per number per month):"
        " aws chime-sdk-voice create-phone-number-order"
        f" --product-type {PRODUCT_TYPE} --e164-phone-numbers <+1NUMBER>",
        "   Or port the practice's existing number in: AWS Support case, 'Account and"
        " billing' > 'Chime (Number Management)', with a signed LOA (product type"
        f" {PRODUCT_TYPE}).",
        "3. Wait until the order is Successful: aws chime-sdk-voice get-phone-number-order"
        " --phone-number-order-id <ORDER-ID>",
        f"4. In quietline.config.json: add the number to tenant '{tenant}' business_numbers,"
        ' and set "voice": {"enabled": true, "numbers": ["<+1NUMBER>"]}.',
        "5. Deploy (cdk deploy): the stack creates the SIP media application, the call-control"
        " Lambda and one SIP rule (ToPhoneNumber) per voice number.",
        f"6. quietline tenants sync: the number then routes calls to tenant '{tenant}'; set"
        " routing and forwarding cells in the inbox's voice settings.",
        "Deleting the stack removes the SIP rule only; release a number yourself"
        " (aws chime-sdk-voice delete-phone-number) if you mean to.",
    ]


def register(numbers: click.Group) -> None:
    @numbers.command("voice")
    @click.option("--tenant", required=True, help="The tenant the voice number belongs to.")
    @click.option("--country", default="US", show_default=True)
    @click.option("--area-code", default=None, help="Three digits, US/CA only.")
    def numbers_voice(tenant: str, country: str, area_code: str | None) -> None:
        """Print the steps to get a Chime SDK voice number (carrier "aws")."""
        for line in voice_setup_steps(tenant, country, area_code):
            click.echo(line)
