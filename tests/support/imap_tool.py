#!/usr/bin/env python3
"""An IMAP client independent of rua, for the end-to-end tests (Python's imaplib).

Connection from the environment: IMAP_PORT (implicit TLS), IMAP_CA, IMAP_USER, IMAP_PASS.

  append FOLDER SAVE_DIR PATH...  APPEND every message found under PATH (mails as they are;
                                  mbox files split; other files wrapped as a report mail's
                                  attachment); a copy of each appended message is written to
                                  SAVE_DIR, so a local `rua ingest SAVE_DIR` sees the same mails
  state FOLDER                    one line per message: uid TAB flags TAB Message-ID
  recreate FOLDER                 delete FOLDER and append its messages again (a new UIDVALIDITY)
"""

import email.message
import hashlib
import email.policy
import imaplib
import mailbox
import os
import re
import ssl
import sys

HEADER = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:")


def connect():
    ctx = ssl.create_default_context(cafile=os.environ["IMAP_CA"])
    m = imaplib.IMAP4_SSL("127.0.0.1", int(os.environ["IMAP_PORT"]), ssl_context=ctx)
    m.login(os.environ["IMAP_USER"], os.environ["IMAP_PASS"])
    return m


def wrap(path, data):
    """A report mail carrying `data` as its attachment, the way reporters send them."""
    msg = email.message.EmailMessage()
    name = os.path.basename(path)
    msg["From"] = "noreply-dmarc@reporter.example"
    msg["To"] = "dmarc@example.com"
    msg["Subject"] = f"Report Domain: example.com Submitter: reporter.example Report-ID: {name}"
    msg["Message-ID"] = f"<{hashlib.sha1(path.encode() + data).hexdigest()}@reporter.example>"
    msg["Date"] = "Fri, 29 Nov 2024 10:00:00 +0000"
    msg.set_content("This is a DMARC aggregate report.")
    msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes(policy=email.policy.SMTP)


def messages(path):
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for f in sorted(files):
                yield from messages(os.path.join(root, f))
        return
    with open(path, "rb") as fh:
        data = fh.read()
    if data.startswith(b"From "):
        for m in mailbox.mbox(path):
            yield m.as_bytes()
    elif HEADER.match(data):
        yield data
    else:
        yield wrap(path, data)


def append(folder, save_dir, paths):
    m = connect()
    m.create(folder)
    os.makedirs(save_dir, exist_ok=True)
    n = 0
    for path in paths:
        for data in messages(path):
            typ, resp = m.append(folder, None, None, data)
            assert typ == "OK", resp
            n += 1
            with open(os.path.join(save_dir, f"{n:06}.eml"), "wb") as out:
                out.write(data)
    m.logout()
    print(n)


def state(folder):
    m = connect()
    typ, _ = m.select(folder, readonly=True)
    if typ != "OK":
        return
    typ, data = m.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta, header = item
        uid = re.search(rb"UID (\d+)", meta)
        flags = re.search(rb"FLAGS \(([^)]*)\)", meta)
        mid = re.search(rb"(?i)message-id:\s*(\S+)", header)
        print("\t".join([
            uid.group(1).decode(),
            " ".join(f for f in (flags.group(1).decode().split() if flags else []) if f != "\\Recent"),
            mid.group(1).decode() if mid else "",
        ]))
    m.logout()


def recreate(folder):
    m = connect()
    m.select(folder)
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
    bodies = [item[1] for item in data if isinstance(item, tuple)]
    m.close()
    m.delete(folder)
    m.create(folder)
    for body in bodies:
        m.append(folder, None, None, body)
    m.logout()
    print(len(bodies))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "append":
        append(args[0], args[1], args[2:])
    elif cmd == "state":
        state(args[0])
    elif cmd == "recreate":
        recreate(args[0])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
