import pytest

from synthgen import Synthesizer, SynthgenError


def test_unfitted_synthesizer_says_what_to_do():
    with pytest.raises(SynthgenError, match="not fitted; call fit"):
        Synthesizer().sample(3)


def test_unknown_model_fails_before_training():
    with pytest.raises(SynthgenError, match="unknown model 'gan9000'"):
        Synthesizer("gan9000")


def test_fit_is_deterministic_and_load_checks_schema(tmp_path, penguins, fast_train):
    a = Synthesizer(target="species", seed=1, train_params=fast_train).fit(penguins)
    b = Synthesizer(target="species", seed=1, train_params=fast_train).fit(penguins)
    assert a.sample(30).equals(b.sample(30))
    assert a.class_counts == {"Adelie": 152, "Chinstrap": 68, "Gentoo": 124}
    a.save(tmp_path / "m")
    schema_file = tmp_path / "m" / "schema.json"
    schema_file.write_text(schema_file.read_text().replace("Adelie", "Emperor"))
    with pytest.raises(SynthgenError, match="schema.json does not match"):
        Synthesizer.load(tmp_path / "m")


def test_nothing_to_model_is_an_error(penguins, fast_train):
    only_ids = penguins[[]].assign(key=range(len(penguins)), label="x")
    with pytest.raises(SynthgenError, match="no column can be modelled"):
        Synthesizer(train_params=fast_train).fit(only_ids.assign(key=only_ids["key"].astype(str)).drop(columns="label"))
