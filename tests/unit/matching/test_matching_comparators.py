import duckdb
import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panther.matching import comparators, normalisers


def python_verdict(name, params, s_value, c_value):
    comparator = comparators.get(name)
    nparams = comparator.normaliser_params(params)
    s = normalisers.normalise(comparator.normaliser, s_value, nparams)
    c = normalisers.normalise(comparator.normaliser, c_value, nparams)
    s_raw, c_raw = normalisers.raw_json(s_value), normalisers.raw_json(c_value)
    return comparators.agree(name, s, c, s_raw, c_raw, params)


def sql_verdicts(name, params, pairs):
    """The engine's form: the SQL predicate over normalised Arrow columns."""
    comparator = comparators.get(name)
    nparams = comparator.normaliser_params(params)
    s_values = [p[0] for p in pairs]
    c_values = [p[1] for p in pairs]
    s_raw = [normalisers.raw_json(v) for v in s_values]
    c_raw = [normalisers.raw_json(v) for v in c_values]
    table = pa.table(
        {
            "s": normalisers.normalise_column(comparator.normaliser, s_values, nparams, keys=s_raw),
            "c": normalisers.normalise_column(comparator.normaliser, c_values, nparams, keys=c_raw),
            "sr": pa.array(s_raw, pa.string()),
            "cr": pa.array(c_raw, pa.string()),
            "i": pa.array(range(len(pairs)), pa.int64()),
        }
    )
    expression = comparators.agree_sql(name, "s", "c", "sr", "cr", params)
    con = duckdb.connect()
    try:
        con.register("t", table)
        rows = con.sql(f"SELECT {expression} FROM t ORDER BY i").fetchall()
    finally:
        con.close()
    return [bool(r[0]) for r in rows]


def verdicts(name, params, pairs):
    python = [python_verdict(name, params, s, c) for s, c in pairs]
    assert python == sql_verdicts(name, params, pairs)
    return python


def eur(value):
    return {"unit": "EUR", "value": value}


def test_money_tolerance_boundaries():
    params = {"absolute": "0.01", "relative": "0"}
    pairs = [
        (eur(100), eur("100.01")),  # exactly at the tolerance
        (eur(100), eur("100.0100000001")),
        (eur(100), eur("99.99")),
        (eur(100), {"unit": "USD", "value": 100}),  # currency always differs
        (eur(100), None),
        (None, None),
        (eur("x"), eur("x")),  # unparseable but identical
        (eur("x"), eur("y")),
    ]
    assert verdicts("money", params, pairs) == [True, False, True, False, False, True, True, False]


def test_money_relative_tolerance_is_symmetric():
    params = {"relative": "0.1"}
    pairs = [(eur(100), eur(110)), (eur(110), eur(100)), (eur(100), eur("111.2")), (eur(0), eur(0))]
    assert verdicts("money", params, pairs) == [True, True, False, True]


def test_money_without_tolerance_is_exact_after_normalisation():
    pairs = [(eur(1250.0), eur("1250")), (eur(1250.0), eur(1250.01))]
    assert verdicts("money", {}, pairs) == [True, False]


def test_number_tolerance():
    params = {"absolute": "0.5", "relative": "0.01"}
    pairs = [
        (10, 10.5),
        (10, 10.6),
        (1000, 1010),
        (1000, 1010.11),
        ("7", 7),
    ]  # relative to the larger value
    assert verdicts("number", params, pairs) == [True, False, True, False, True]


def test_date_tolerance_days():
    pairs = [
        ("2024-03-01", "2024-03-02T10:00:00Z"),
        ("2024-03-01", "2024-03-03"),
        ("2024-03-03", "2024-03-01"),
        ("2024-03-01T00:00:00Z", "2024-03-01"),
        (None, "2024-03-01"),
    ]
    assert verdicts("date", {"toleranceDays": 1}, pairs) == [True, False, False, True, False]
    assert verdicts("date", {}, pairs[:1] + pairs[3:4]) == [False, True]


def test_bandwidth_text_enum_exact():
    assert verdicts("bandwidth", {}, [("10G", "10000 Mbps"), ("10G", "1G"), ("10G", "ten")]) == [
        True,
        False,
        False,
    ]
    assert verdicts("normalisedText", {}, [("FRA 1", "fra  1"), ("FRA1", "FRA 1")]) == [True, False]
    assert verdicts("enum", {}, [("created", "pendingActive"), ("active", "suspended")]) == [
        True,
        False,
    ]
    assert verdicts("enum", {"map": {"E-Line": "EPL"}}, [("E-LINE", "epl")]) == [True]
    assert verdicts("exact", {}, [("EPL", "EPL"), ("EPL", "epl"), (1, 1.0)]) == [True, False, False]


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("money", {"absolute": True}),
        ("money", {"absolute": float("nan")}),
        ("money", {"relative": -0.5}),
        ("money", {"relative": 1e-11}),
        ("money", {"absolute": "-1"}),
        ("money", {"relative": "2"}),
        ("money", {"relative": "0.00000000001"}),
        ("money", {"absolute": "abc"}),
        ("number", {"tolerance": "1"}),
        ("date", {"toleranceDays": -1}),
        ("date", {"toleranceDays": 1.5}),
        ("date", {"day": "local"}),
        ("bandwidth", {"x": 1}),
        ("enum", {"map": ["a"]}),
    ],
)
def test_bad_params_are_reported(name, params):
    assert comparators.get(name).check_params(params)


def test_unknown_comparator():
    with pytest.raises(comparators.UnknownComparator):
        comparators.get("soundex")


_amounts = st.decimals(min_value=-(10**6), max_value=10**6, places=4)


@settings(max_examples=60, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.one_of(st.none(), st.builds(lambda v, u: {"unit": u, "value": str(v)}, _amounts,
                                           st.sampled_from(["EUR", "USD"]))),
            st.one_of(st.none(), st.builds(lambda v, u: {"unit": u, "value": str(v)}, _amounts,
                                           st.sampled_from(["EUR", "USD"]))),
        ),
        min_size=1,
        max_size=15,
    ),
    absolute=st.sampled_from(["0", "0.01", "5"]),
    relative=st.sampled_from(["0", "0.001", "0.5"]),
)  # fmt: skip
def test_money_sql_equals_python(pairs, absolute, relative):
    verdicts("money", {"absolute": absolute, "relative": relative}, pairs)


def test_normalised_json_matches_sql_form():
    values = {
        "money": (eur("12.50"), "EUR 12.5"),
        "number": ("100.000", "100"),
        "date": ("2024-03-01T00:00:00Z", "2024-03-01"),
        "bandwidth": ("10G", 10_000_000_000),
        "text": ('A "quoted"  Name', 'a "quoted" name'),
    }
    con = duckdb.connect()
    try:
        for name, (raw, expected) in values.items():
            normalised = normalisers.normalise(name, raw)
            assert comparators.normalised_json(name, normalised) == expected
            column = normalisers.normalise_column(name, [raw], keys=[normalisers.raw_json(raw)])
            con.register("t", pa.table({"v": column}))
            text = con.sql(
                f"SELECT {comparators.normalised_json_sql(name, 'v')} FROM t"
            ).fetchall()[0]
            assert orjson.loads(text[0]) == expected
            con.unregister("t")
    finally:
        con.close()
