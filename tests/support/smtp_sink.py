"""A real SMTP server for the tests (aiosmtpd): prints each message it
accepts as one JSON line {from, to, data} on stdout, after a first line
"ready <port>". Usage: python3 tests/support/smtp_sink.py <port> (a free
one: the controller checks it is up by connecting to it)"""
import json
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
        }), flush=True)
        return "250 Message accepted for delivery"


controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print(f"ready {controller.port}", flush=True)
threading.Event().wait()
