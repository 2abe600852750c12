#!/usr/bin/python3
"""Checks one email built by vipgen with Python's own MIME parser (the `email` package), as an independent oracle.

    check_eml.py FILE.eml [--from NAME ADDR] [--reply-to NAME ADDR] [--to NAME ADDR] [--subject S] [--date EPOCH]
                 [--message-id ID] [--lang TAG] [--dir rtl|ltr] [--pdf FILE] [--filename NAME] [--text S]...

NAME may be "" for an address without a display name. Each --text must appear in the text/plain part and, as
text (after HTML unescaping), in the text/html part. Prints one line per problem and exits 1 if there is any;
prints "ok" and exits 0 otherwise.
"""
import argparse
import email
import email.policy
import email.utils
import html.parser
import sys


class HtmlFacts(html.parser.HTMLParser):
    REMOTE_TAGS = {"script", "img", "link", "iframe", "object", "embed", "style", "audio", "video", "source", "base"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.html_attrs = None
        self.body_style = None
        self.text = []
        self.title = []
        self.in_title = False
        self.remote = []
        self.meta_charset = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_attrs = a
        elif tag == "body":
            self.body_style = a.get("style", "")
        elif tag == "title":
            self.in_title = True
        elif tag == "meta" and "charset" in a:
            self.meta_charset = a["charset"]
        if tag in self.REMOTE_TAGS:
            self.remote.append(f"<{tag}>")
        for name, value in attrs:
            if name in ("src", "href", "srcset", "background", "action") or (value and "url(" in value):
                self.remote.append(f"{tag} {name}={value}")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        (self.title if self.in_title else self.text).append(data)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("eml")
    p.add_argument("--from", dest="from_", nargs=2)
    p.add_argument("--reply-to", nargs=2)
    p.add_argument("--to", nargs=2)
    p.add_argument("--subject")
    p.add_argument("--date", type=int)
    p.add_argument("--message-id")
    p.add_argument("--lang")
    p.add_argument("--dir", choices=("rtl", "ltr"))
    p.add_argument("--pdf")
    p.add_argument("--filename")
    p.add_argument("--text", action="append", default=[])
    a = p.parse_args()
    problems = []

    def want(cond, what):
        if not cond:
            problems.append(what)

    raw = open(a.eml, "rb").read()
    lines = raw.split(b"\r\n")
    want(b"\n" not in raw.replace(b"\r\n", b""), "a line ends in a bare LF (or CR): not CRLF throughout")
    want(all(len(line) <= 998 for line in lines), "a line is longer than 998 bytes")
    head = raw.split(b"\r\n\r\n", 1)[0]
    want(all(b < 0x80 for b in head), "the message header has non-ASCII bytes (RFC 2047 encoding missing)")

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    want(not msg.defects, f"parser defects: {msg.defects}")
    want(msg["MIME-Version"] == "1.0", f"MIME-Version is {msg['MIME-Version']!r}")

    def check_address(header, expected):
        if expected is None:
            return
        h = msg[header]
        addrs = h.addresses if h is not None else ()
        got = [(x.display_name, x.addr_spec) for x in addrs]
        want(got == [tuple(expected)], f"{header}: got {got}, want {[tuple(expected)]}")

    check_address("From", a.from_)
    check_address("Reply-To", a.reply_to)
    check_address("To", a.to)
    if a.subject is not None:
        want(msg["Subject"] == a.subject, f"Subject decodes to {msg['Subject']!r}, want {a.subject!r}")
        if any(ord(c) > 127 for c in a.subject):
            raw_subject = [l for l in head.split(b"\r\n") if l.lower().startswith(b"subject:")]
            want(raw_subject and b"=?" in raw_subject[0], "Subject is not RFC 2047 encoded")
    if a.date is not None:
        got = email.utils.parsedate_to_datetime(msg["Date"]).timestamp() if msg["Date"] else None
        want(got == a.date, f"Date {msg['Date']!r} is {got}, want {a.date}")
    if a.message_id is not None:
        want(str(msg["Message-ID"]).strip() == f"<{a.message_id}>", f"Message-ID {msg['Message-ID']!r}")
    if a.lang is not None:
        want(msg["Content-Language"] == a.lang, f"Content-Language {msg['Content-Language']!r}")

    want(msg.get_content_type() == "multipart/mixed", f"top type {msg.get_content_type()}")
    parts = msg.get_payload() if msg.is_multipart() else []
    want(len(parts) == 2, f"multipart/mixed has {len(parts)} parts, want 2")
    if len(parts) != 2:
        print("\n".join(problems))
        return 1
    alt, pdf = parts
    want(alt.get_content_type() == "multipart/alternative", f"first part is {alt.get_content_type()}")
    sub = alt.get_payload() if alt.is_multipart() else []
    types = [s.get_content_type() for s in sub]
    want(types == ["text/plain", "text/html"], f"alternative parts {types}")
    if types == ["text/plain", "text/html"]:
        plain, htm = sub
        for part in sub:
            want(part.get_content_charset() == "utf-8", f"{part.get_content_type()} charset {part.get_content_charset()}")
            want(not part.defects, f"{part.get_content_type()} defects {part.defects}")
        text = plain.get_content().replace("\r\n", "\n")
        facts = HtmlFacts()
        facts.feed(htm.get_content())
        facts.close()
        html_text = "".join(facts.text)
        for t in a.text:
            want(t in text, f"text/plain lacks {t!r}")
            # A line break inside a paragraph is <br> in HTML: compare with line breaks as whitespace.
            want(" ".join(t.split()) in " ".join(html_text.split()), f"text/html lacks {t!r}")
        want(htm.get_content().lstrip().lower().startswith("<!doctype html>"), "HTML is not a complete document")
        want(facts.meta_charset and facts.meta_charset.lower() == "utf-8", "HTML has no <meta charset=utf-8>")
        want(not facts.remote, f"HTML refers to remote or active content: {facts.remote}")
        if a.subject is not None:
            want("".join(facts.title) == a.subject, f"HTML title {''.join(facts.title)!r}")
        attrs = facts.html_attrs or {}
        if a.lang is not None:
            want(attrs.get("lang") == a.lang, f"<html lang={attrs.get('lang')!r}>")
        if a.dir is not None:
            want(attrs.get("dir") == a.dir, f"<html dir={attrs.get('dir')!r}>")
            align = "right" if a.dir == "rtl" else "left"
            want(facts.body_style is not None and f"text-align: {align}" in facts.body_style,
                 f"body style {facts.body_style!r}, want text-align: {align}")

    want(pdf.get_content_type() == "application/pdf", f"attachment type {pdf.get_content_type()}")
    want(pdf.get_content_disposition() == "attachment", f"disposition {pdf.get_content_disposition()}")
    want(pdf["Content-Transfer-Encoding"] == "base64", f"attachment encoding {pdf['Content-Transfer-Encoding']}")
    if a.filename is not None:
        want(pdf.get_filename() == a.filename, f"attachment file name {pdf.get_filename()!r}, want {a.filename!r}")
        if any(ord(c) > 127 for c in a.filename):
            want(b"filename*=" in raw, "non-ASCII file name without RFC 2231 filename*=")
    if a.pdf is not None:
        want(pdf.get_payload(decode=True) == open(a.pdf, "rb").read(), "attachment bytes differ from the PDF")

    if problems:
        print("\n".join(problems))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
