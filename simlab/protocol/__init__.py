"""The protocol layer: SMTP and POP3 sessions, replies, personas and the server model."""

from simlab.protocol.message import MailStore, Message
from simlab.protocol.persona import Persona
from simlab.protocol.policy import DROP, Dropped, Pop3Context, Recipient, Restriction, SmtpContext
from simlab.protocol.pop3 import Pop3Session
from simlab.protocol.reply import Pop3Reply, Reply
from simlab.protocol.server import MailServer
from simlab.protocol.smtp import SmtpSession

__all__ = [
    "DROP", "Dropped", "MailServer", "MailStore", "Message", "Persona", "Pop3Context", "Pop3Reply",
    "Pop3Session", "Recipient", "Reply", "Restriction", "SmtpContext", "SmtpSession",
]
