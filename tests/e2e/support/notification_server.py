#!/usr/bin/python3
"""A stand-in notification server for the e2e suite: it owns org.freedesktop.Notifications
on the session bus, prints every Notify and CloseNotification it gets as a JSON line, and
says a notification's action was invoked when told on stdin ("invoke ID ACTION").

--no-actions: it does not advertise the "actions" capability.
--never-answer: it takes Notify calls and never answers them (a hung server)."""
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NOTIFICATIONS = "org.freedesktop.Notifications"


def record(**call):
    print(json.dumps(call), flush=True)


class Server(dbus.service.Object):
    def __init__(self, bus, actions, answer):
        self.actions = actions
        self.answer = answer
        self.next_id = 1
        super().__init__(bus, "/org/freedesktop/Notifications")
        self.name = dbus.service.BusName(NOTIFICATIONS, bus, do_not_queue=True)

    @dbus.service.method(NOTIFICATIONS, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["body", "actions"] if self.actions else ["body"]

    @dbus.service.method(NOTIFICATIONS, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("stand-in", "quire-e2e", "1", "1.2")

    @dbus.service.method(
        NOTIFICATIONS,
        in_signature="susssasa{sv}i",
        out_signature="u",
        async_callbacks=("reply", "error"),
    )
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout, reply, error):
        notification_id = int(replaces) or self.next_id
        if not int(replaces):
            self.next_id += 1
        record(
            call="Notify",
            id=notification_id,
            replaces=int(replaces),
            summary=str(summary),
            body=str(body),
            actions=[str(a) for a in actions],
        )
        if self.answer:
            reply(dbus.UInt32(notification_id))

    @dbus.service.method(NOTIFICATIONS, in_signature="u")
    def CloseNotification(self, notification_id):
        record(call="CloseNotification", id=int(notification_id))
        self.NotificationClosed(notification_id, dbus.UInt32(3))

    @dbus.service.signal(NOTIFICATIONS, signature="us")
    def ActionInvoked(self, notification_id, action):
        pass

    @dbus.service.signal(NOTIFICATIONS, signature="uu")
    def NotificationClosed(self, notification_id, reason):
        pass


def main():
    DBusGMainLoop(set_as_default=True)
    loop = GLib.MainLoop()
    server = Server(dbus.SessionBus(), "--no-actions" not in sys.argv, "--never-answer" not in sys.argv)

    def on_line(source, _condition):
        line = source.readline()
        words = line.split()
        if len(words) == 3 and words[0] == "invoke":
            server.ActionInvoked(dbus.UInt32(int(words[1])), words[2])
        if not line or words == ["quit"]:
            loop.quit()
            return False
        return True

    GLib.io_add_watch(sys.stdin, GLib.IO_IN | GLib.IO_HUP, on_line)
    record(call="ready")
    loop.run()


if __name__ == "__main__":
    main()
