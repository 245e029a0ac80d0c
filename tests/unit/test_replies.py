"""Which message a reply answers: the most recent one that sender sent to that phone before the reply."""

from __future__ import annotations

from datetime import timedelta

from tests.fakes import T0
from wacast.domain.conversations import latest_sent_by, reply_id
from wacast.domain.messages import Message, MessageStatus


def message(n: int, sender: str, minutes: int, status: MessageStatus = MessageStatus.READ) -> Message:
    at = T0 + timedelta(minutes=minutes)
    return Message(
        id=f"m_{n}",
        account_id="a",
        sender_id=sender,
        phone="+919800000000",
        body="hi",
        status=status,
        campaign_id=f"c_{n}",
        created_at=at,
        updated_at=at,
    )


def test_a_reply_answers_the_latest_message_of_its_sender_sent_before_it() -> None:
    sent = [
        message(1, "s1", 0),
        message(2, "s1", 10),
        message(3, "s2", 20),  # another sender of the account: not the one written to
        message(4, "s1", 30, MessageStatus.SKIPPED),  # never sent
        message(5, "s1", 60),  # after the reply
    ]
    answered = latest_sent_by(sent, "s1", T0 + timedelta(minutes=45))
    assert answered is not None and answered.id == "m_2" and answered.campaign_id == "c_2"
    assert latest_sent_by(sent, "s3", T0 + timedelta(minutes=45)) is None


def test_the_same_incoming_message_gets_the_same_id() -> None:
    assert reply_id("s1", "+91", T0, "yes") == reply_id("s1", "+91", T0, "yes")
    assert reply_id("s1", "+91", T0, "yes") != reply_id("s1", "+91", T0 + timedelta(seconds=1), "yes")
    assert reply_id("s1", "+91", T0, "yes", "WA1") == reply_id("s1", "+91", T0 + timedelta(hours=1), "no", "WA1")
