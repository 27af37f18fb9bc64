@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60), country=st.sampled_from([None, "DE", "FR", "US", "GB"]))
def test_anything_is_e164_digits_or_refused_as_invalid_number(
    text: str, country: str | None
) -> None:
    try:
        e164 = to_e164(text, country)
    except InvalidNumber as exc:
        assert exc.message.isprintable() and len(exc.message) < 300
        return
    assert re.fullmatch(r"\+[1-9][0-9]{1,14}", e164)
    for style in NumberStyle:
        assert re.fullmatch(r"\+?[0-9]{2,17}", for_trunk(e164, style))
