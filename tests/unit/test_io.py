import pandas as pd
import pyarrow.parquet as pq
import pytest

from synthgen.errors import SynthgenError
from synthgen.io import atomic_path, read_table, write_parquet_batches


def test_reads_csv_parquet_directory_and_jsonl(tmp_path, penguins):
    penguins.to_csv(tmp_path / "t.csv", index=False)
    penguins.to_parquet(tmp_path / "t.parquet")
    (tmp_path / "parts").mkdir()
    penguins.iloc[:100].to_parquet(tmp_path / "parts" / "a.parquet")
    penguins.iloc[100:].to_parquet(tmp_path / "parts" / "b.parquet")
    penguins.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    for name in ("t.csv", "t.parquet", "parts", "t.jsonl"):
        frame = read_table(tmp_path / name)
        assert frame.shape == penguins.shape, name
        assert list(frame.columns) == list(penguins.columns)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "file not found"),
        ("empty.csv", b"", "file is empty"),
        ("header_only.csv", b"a,b\n", "no rows"),
        ("corrupt.parquet", b"PAR1 this is not parquet", "cannot read as Parquet"),
        ("table.xlsx", b"xx", "unsupported file type '.xlsx'"),
    ],
)
def test_bad_files_get_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SynthgenError, match=message) as err:
        read_table(path)
    assert "\n" not in str(err.value) and name in str(err.value)


def test_streamed_parquet_has_one_row_group_per_batch(tmp_path):
    batches = [pd.DataFrame({"x": range(i * 10, i * 10 + 10)}) for i in range(3)]
    assert write_parquet_batches(iter(batches), tmp_path / "out.parquet") == 30
    meta = pq.ParquetFile(tmp_path / "out.parquet").metadata
    assert (meta.num_row_groups, meta.num_rows) == (3, 30)


def test_failed_write_leaves_nothing(tmp_path):
    def batches():
        yield pd.DataFrame({"x": [1, 2]})
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_parquet_batches(batches(), tmp_path / "out.parquet")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_replaces_only_on_success(tmp_path):
    dest = tmp_path / "d.txt"
    dest.write_text("old")
    with pytest.raises(KeyError), atomic_path(dest) as tmp:
        tmp.write_text("new")
        raise KeyError
    assert dest.read_text() == "old" and len(list(tmp_path.iterdir())) == 1
    with atomic_path(dest) as tmp:
        tmp.write_text("new")
    assert dest.read_text() == "new"


def test_provenance_travels_in_the_parquet_metadata(tmp_path, penguins):
    from synthgen.io import parquet_provenance

    provenance = {"privacy": {"epsilon": 2.5, "delta": 1e-5}}
    write_parquet_batches([penguins.iloc[:50], penguins.iloc[50:]], tmp_path / "dp.parquet", provenance)
    write_parquet_batches([penguins], tmp_path / "plain.parquet")
    penguins.to_csv(tmp_path / "plain.csv", index=False)
    assert parquet_provenance(tmp_path / "dp.parquet") == provenance
    assert pd.read_parquet(tmp_path / "dp.parquet").equals(penguins)
    assert parquet_provenance(tmp_path / "plain.parquet") == {} == parquet_provenance(tmp_path / "plain.csv")
