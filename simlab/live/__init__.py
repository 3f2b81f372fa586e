"""The live lab: simulated servers on real loopback sockets.

The same :class:`~simlab.protocol.server.MailServer` the simulation uses
answers real clients - smtplib, poplib, telnet, ``nc -C``, swaks - over SMTP
(RFC 5321) and POP3 (RFC 1939), on one asyncio event loop in a thread of
its own. One policy implementation, two ways in: every reply comes from the server's
own :class:`~simlab.protocol.smtp.SmtpSession` /
:class:`~simlab.protocol.pop3.Pop3Session`. ::

    import smtplib
    import simlab
    import simlab.live

    eims = simlab.presets.eims_2_1(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                                   relay_restriction=True)
    with simlab.live.serve(eims, client_map={"127.0.0.2": "203.0.113.50"}) as lab:
        client = smtplib.SMTP(lab.host, lab.smtp_port, source_address=("127.0.0.2", 0))
        client.docmd("HELO outside.test")
        client.docmd("MAIL FROM:<Postmaster@mycompany.test>")   # (250, b'Sender <...> OK')
        client.docmd("RCPT TO:<user_name@yourcompany.test>")    # relayed: 250
        client.quit()
    print("\\n".join(eims.log))

From a shell: ``python -m simlab serve --preset eims-2.1 --smtp-port 2525 --pop3-port 1110``.
See :mod:`simlab.live.server` for the clock, addresses and limits.
"""

from simlab.live.server import DEFAULT_MAX_LINE, ListenError, LiveLab, check_client_map, check_host, serve

__all__ = ["DEFAULT_MAX_LINE", "ListenError", "LiveLab", "check_client_map", "check_host", "serve"]
