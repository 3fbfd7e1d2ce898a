from pipeline.tokens import approx_token_count


def test_spaced_and_unspaced_scripts():
    assert approx_token_count("The quick brown fox, 42 times!") == 6
    assert approx_token_count("我们今天去北京") == 7
    assert approx_token_count("ภาษาไทย") == 7
    assert approx_token_count("Привет, мир") == 2
    assert approx_token_count("") == 0
