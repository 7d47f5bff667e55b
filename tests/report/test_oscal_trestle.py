"""The pack's OSCAL files load in an independent OSCAL implementation (compliance-trestle's
pydantic models, which reject unknown fields, bad tokens and bad UUIDs), and say what the pack
says: 38 Annex A controls, one finding per control targeting an objective the catalog defines,
every related observation present, and a not-satisfied finding wherever evidence.json has an
applicable control without evidence.

Usage: python test_oscal_trestle.py PACK_DIR
"""

import json
import pathlib
import sys

import trestle.oscal
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog


def controls_of(catalog: Catalog):
    for group in catalog.groups or []:
        yield from group.controls or []


def main(pack: pathlib.Path) -> None:
    catalog = Catalog.oscal_read(pack / "oscal" / "catalog.json")
    results = AssessmentResults.oscal_read(pack / "oscal" / "assessment-results.json")
    assert catalog is not None and results is not None, "trestle found no file"
    evidence = json.loads((pack / "evidence.json").read_text())

    # The OSCAL version we write is the one this trestle implements.
    for document in (catalog, results):
        written = document.metadata.oscal_version.root.root
        assert written == trestle.oscal.OSCAL_VERSION, (
            f"oscal-version {written}, trestle implements {trestle.oscal.OSCAL_VERSION}"
        )

    controls = list(controls_of(catalog))
    assert len(catalog.groups) == 9, f"{len(catalog.groups)} groups"
    assert len(controls) == 38, f"{len(controls)} controls"
    labels = {control.props[0].value for control in controls}
    assert labels == {row["control_id"] for row in evidence["soa"]}, "catalog and SoA differ"
    objectives = {
        part.id: control.props[0].value
        for control in controls
        for part in control.parts or []
        if part.name == "assessment-objective"
    }
    assert len(objectives) == 38, f"{len(objectives)} objectives"

    [result] = results.results
    findings = result.findings or []
    observations = {str(observation.uuid): observation for observation in result.observations or []}
    assert len(findings) == 38, f"{len(findings)} findings"
    # One observation per control plus one per verified log.
    assert len(observations) == 38 + len(evidence["logs"]), f"{len(observations)} observations"
    state_by_control = {}
    for finding in findings:
        target = finding.target.target_id
        assert target in objectives, f"finding targets {target}, which the catalog lacks"
        state_by_control[objectives[target]] = finding.target.status.state.value
        for related in finding.related_observations or []:
            assert str(related.observation_uuid) in observations, "dangling observation"
    assert set(state_by_control) == labels, "a control has no finding"
    intact = bool(evidence["logs"]) and all(log["intact"] for log in evidence["logs"])
    for row in evidence["soa"]:
        # Runtime records from a log that failed verification are no evidence.
        evidenced = row["evidence_ids"] or (row["runtime_records"] > 0 and intact)
        if row["applicable"] and not evidenced:
            assert state_by_control[row["control_id"]] == "not-satisfied", row["control_id"]
    # import-ap points at a back-matter resource that exists.
    plan = results.import_ap.href
    resources = {str(resource.uuid) for resource in results.back_matter.resources}
    assert plan.startswith("#") and plan[1:] in resources, f"import-ap {plan} resolves to nothing"
    log_notes = [o.description for o in observations.values() if o.title.startswith("Audit log")]
    assert all(("NOT intact" in note) != intact for note in log_notes), log_notes

    print(
        f"ok {pack}: trestle {trestle.__version__} (OSCAL {trestle.oscal.OSCAL_VERSION}) loads the "
        f"catalog ({len(controls)} controls) and the assessment results ({len(findings)} findings, "
        f"{sum(state == 'satisfied' for state in state_by_control.values())} satisfied)"
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python test_oscal_trestle.py PACK_DIR")
    main(pathlib.Path(sys.argv[1]))
