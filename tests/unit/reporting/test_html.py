from synthgen.reporting.html import verdict_table


def test_unsafe_overrides_and_accepted_inconclusive_checks_show_in_red():
    check = {"kind": "privacy", "direction": "higher_is_better", "threshold": 0.0, "level": "warn"}
    metrics = {
        "checks": {
            "near_copies": {**check, "verdict": "warn", "score": 0.0, "unsafe": "audited by hand"},
            "quality": {**check, "kind": "fidelity", "verdict": "accepted_inconclusive", "score": None},
        },
        "allow_unsafe": {"near_copies": "audited by hand"},
        "accepted_inconclusive": ["quality"],
    }
    page = verdict_table(metrics)
    assert '<p class="unsafe">UNSAFE: near_copies is looser than shipped (audited by hand)</p>' in page
    assert '<p class="unsafe">ACCEPTED INCONCLUSIVE: quality' in page
    assert '<span class="accepted_inconclusive">' in page
