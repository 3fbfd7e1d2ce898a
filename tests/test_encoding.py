from pipeline.extraction.encoding import decode_html, meta_charset, normalise_charset

RUSSIAN = "<html><body><p>Съешь же ещё этих мягких французских булок, да выпей чаю.</p></body></html>"
POLISH = "<html><head><meta charset=\"iso-8859-2\"></head><body>Zażółć gęślą jaźń - źdźbło.</body></html>"
GERMAN = "<html><body>Größere Straßenbahnen fahren über die Brücke, schöne Grüße aus Köln.</body></html>"


def test_http_charset_is_used():
    text, codec = decode_html(RUSSIAN.encode("cp1251"), "windows-1251")
    assert "мягких французских булок" in text and codec == "cp1251"


def test_meta_charset_is_used_when_http_says_nothing():
    text, codec = decode_html(POLISH.encode("iso-8859-2"), None)
    assert "Zażółć gęślą jaźń" in text and codec == "iso8859_2"
    assert meta_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">') == "Shift_JIS"


def test_utf8_mislabelled_as_latin1_is_read_as_utf8():
    text, codec = decode_html(GERMAN.encode("utf-8"), "iso-8859-1")
    assert "Größere Straßenbahnen" in text and "Ã" not in text and codec == "utf-8"


def test_undeclared_legacy_encoding_is_detected():
    text, _ = decode_html((GERMAN * 3).encode("cp1252"), None)
    assert "Größere Straßenbahnen" in text


def test_a_few_invalid_bytes_do_not_turn_utf8_into_mojibake():
    payload = (GERMAN * 5).encode("utf-8").replace(b"K\xc3\xb6ln", b"K\xf6ln", 1)
    text, codec = decode_html(payload, None)
    assert codec == "utf-8" and text.count("Größere") == 5


def test_bom_and_labels():
    assert decode_html("\ufeff<p>é</p>".encode("utf-8"), "iso-8859-1") == ("<p>é</p>", "utf-8-sig")
    assert normalise_charset("ISO-8859-1") == "cp1252"
    assert normalise_charset("no-such-charset") is None


def test_declared_utf8_with_some_invalid_bytes_stays_utf8():
    payload = "Ele disse que a descida “não é efectivamente uma” opção, até à próxima reunião.".encode()
    payload = payload.replace("até".encode(), b"at\xe9")  # one Latin-1 byte among ten valid characters
    text, codec = decode_html(payload, "utf-8")
    assert codec == "utf-8" and "“não é efectivamente uma”" in text
    assert decode_html("Größe".encode("cp1252") * 3, "utf-8")[1] != "utf-8"  # legacy bytes are not UTF-8
