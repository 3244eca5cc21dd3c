"""The SIP text a call arrives with: request URI, user parts, headers, where transfers and calls go."""

from sip.uri import bare_uri, dial_uri, header, host_part, request_uri, user_part

INVITE = ("INVITE sip:%2B15550100@pbx.example.com;user=phone SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
          "From: \"Alice\" <sip:alice@10.0.0.1>;tag=1\r\n"
          "i: abc123@10.0.0.1\r\n"
          "Content-Length: 0\r\n\r\n"
          "Call-ID: not-a-header@body\r\n")


def test_the_dialled_number_is_the_request_uri_user_part_unescaped():
    assert request_uri(INVITE) == "sip:%2B15550100@pbx.example.com;user=phone"
    assert user_part(request_uri(INVITE)) == "+15550100"
    assert user_part("sip:1000@127.0.0.1:5060") == "1000"
    assert user_part("sips:support@pbx;transport=tls") == "support"
    assert user_part("tel:+15550100;phone-context=example.com") == "+15550100"


def test_a_request_to_the_host_itself_has_no_user():
    assert user_part("sip:127.0.0.1:5060") == ""
    assert user_part("mailto:someone@example.com") == ""
    assert request_uri("garbage") == "" and request_uri("") == ""


def test_name_addrs_and_hosts():
    assert bare_uri('"Alice" <sip:alice@10.0.0.1:5062>;tag=1') == "sip:alice@10.0.0.1:5062"
    assert bare_uri("sip:bob@host;tag=9") == "sip:bob@host"
    assert user_part('"Alice" <sip:alice@10.0.0.1>') == "alice"
    assert host_part("sip:1000@pbx.example.com:5070;transport=tcp") == "pbx.example.com:5070"
    assert host_part("sip:pbx.example.com") == "pbx.example.com"


def test_headers_by_full_or_compact_name_and_only_from_the_head():
    assert header(INVITE, "Call-ID", "i") == "abc123@10.0.0.1"
    assert header(INVITE, "from") == '"Alice" <sip:alice@10.0.0.1>;tag=1'
    assert header(INVITE, "Contact", "m") == ""


def test_transfer_and_dial_targets():
    assert dial_uri("sip:desk@pbx.example.com", "other") == "sip:desk@pbx.example.com"
    assert dial_uri("+1 (555) 010-0", "pbx.example.com") == "sip:+15550100@pbx.example.com"
    assert dial_uri("tel:+15550100", "pbx") == "sip:+15550100@pbx"
    assert dial_uri("1000", "127.0.0.1:5060") == "sip:1000@127.0.0.1:5060"
