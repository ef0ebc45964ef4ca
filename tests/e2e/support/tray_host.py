#!/usr/bin/python3
"""A stand-in desktop panel for the e2e suite: it owns org.kde.StatusNotifierWatcher on the
session bus, takes item registrations, and says a tray host is registered or not when told
on stdin ("host on", "host off"). It prints "ready" once it owns the name, and exits on
"quit" or when stdin closes (its name goes with it, as a panel's does when it crashes)."""
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

WATCHER = "org.kde.StatusNotifierWatcher"


class Watcher(dbus.service.Object):
    def __init__(self, bus, host):
        self.items = []
        self.host = host
        super().__init__(bus, "/StatusNotifierWatcher")
        self.name = dbus.service.BusName(WATCHER, bus, do_not_queue=True)

    @dbus.service.method(WATCHER, in_signature="s", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        item = sender + service if service.startswith("/") else service
        self.items.append(item)
        self.StatusNotifierItemRegistered(item)

    @dbus.service.method(WATCHER, in_signature="s")
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.signal(WATCHER, signature="s")
    def StatusNotifierItemRegistered(self, item):
        pass

    @dbus.service.signal(WATCHER, signature="")
    def StatusNotifierHostRegistered(self):
        pass

    @dbus.service.signal(WATCHER, signature="")
    def StatusNotifierHostUnregistered(self):
        pass

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        return self.GetAll(interface)[prop]

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return {
            "RegisteredStatusNotifierItems": dbus.Array(self.items, signature="s"),
            "IsStatusNotifierHostRegistered": dbus.Boolean(self.host),
            "ProtocolVersion": dbus.Int32(0),
        }

    @dbus.service.signal(dbus.PROPERTIES_IFACE, signature="sa{sv}as")
    def PropertiesChanged(self, interface, changed, invalidated):
        pass

    def set_host(self, host):
        self.host = host
        self.PropertiesChanged(WATCHER, {"IsStatusNotifierHostRegistered": dbus.Boolean(host)}, [])
        if host:
            self.StatusNotifierHostRegistered()
        else:
            self.StatusNotifierHostUnregistered()


def main():
    DBusGMainLoop(set_as_default=True)
    loop = GLib.MainLoop()
    watcher = Watcher(dbus.SessionBus(), host="--no-host" not in sys.argv)

    def on_line(source, _condition):
        line = source.readline()
        command = line.strip()
        if command == "host on":
            watcher.set_host(True)
        elif command == "host off":
            watcher.set_host(False)
        if not line or command == "quit":
            loop.quit()
            return False
        print("done", flush=True)
        return True

    GLib.io_add_watch(sys.stdin, GLib.IO_IN | GLib.IO_HUP, on_line)
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
