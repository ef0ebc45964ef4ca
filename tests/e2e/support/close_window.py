#!/usr/bin/python3
"""Asks a window to close the way a window manager does when its close button is clicked:
a WM_PROTOCOLS client message carrying WM_DELETE_WINDOW, sent to the top-level window with
the title given (Xvfb runs no window manager to do it)."""
import sys

from Xlib import X, display, protocol


def title_of(window):
    name = window.get_wm_name()
    return name.decode() if isinstance(name, bytes) else name


def find(window, title, delete):
    try:
        if title_of(window) == title and delete in (window.get_wm_protocols() or []):
            return window
        children = window.query_tree().children
    except Exception:  # a window that went away meanwhile
        return None
    for child in children:
        found = find(child, title, delete)
        if found is not None:
            return found
    return None


def main():
    title = sys.argv[1]
    shown = display.Display()
    protocols = shown.intern_atom("WM_PROTOCOLS")
    delete = shown.intern_atom("WM_DELETE_WINDOW")
    window = find(shown.screen().root, title, delete)
    if window is None:
        sys.exit(f"no window titled {title!r} takes WM_DELETE_WINDOW")
    message = protocol.event.ClientMessage(
        window=window, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
    )
    window.send_event(message, event_mask=X.NoEventMask)
    shown.flush()


if __name__ == "__main__":
    main()
