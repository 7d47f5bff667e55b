//! OSCAL 1.2 documents: the Annex A catalog and the assessment results (findings per
//! control, observations from the audit logs). Identifiers are deterministic UUIDs (v5-style,
//! from sha256) so the same evidence yields the same documents.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::evidence::EvidencePack;
use crate::catalog;

/// The OSCAL release the documents follow; compliance-trestle 5.2.0 (scripts/test-report)
/// implements the same one and loads them.
const OSCAL_VERSION: &str = "1.2.1";

/// A stable UUID (RFC 4122 layout, version 5 bits) derived from `name`.
fn uuid(name: &str) -> String {
    let digest = Sha256::digest(format!("aims:{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// OSCAL control ids are tokens: lower case, no leading digit.
fn control_token(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// The id of a control's assessment-objective part in the catalog, which findings target.
fn objective_id(control_id: &str) -> String {
    format!("{}_obj", control_token(control_id))
}

fn metadata(title: &str, last_modified: &str) -> Value {
    json!({
        "title": title,
        "last-modified": last_modified,
        "version": env!("CARGO_PKG_VERSION"),
        "oscal-version": OSCAL_VERSION,
    })
}

/// The ISO/IEC 42001:2023 Annex A catalog (ids and short titles only).
pub fn catalog() -> Value {
    let catalog = catalog::catalog();
    let groups: Vec<Value> = catalog
        .groups
        .iter()
        .map(|group| {
            let controls: Vec<Value> = catalog
                .controls
                .iter()
                .filter(|control| control.group == group.id)
                .map(|control| {
                    json!({
                        "id": control_token(&control.id),
                        "title": control.title,
                        "props": [{"name": "label", "value": control.id}],
                        // Our own wording (the standard's text is not reproduced): the
                        // objective the assessment results' findings target.
                        "parts": [{
                            "id": objective_id(&control.id),
                            "name": "assessment-objective",
                            "prose": format!(
                                "Determine whether control {} ({}) is applicable, implemented as the Statement of Applicability says, and evidenced in the period.",
                                control.id, control.title
                            ),
                        }],
                    })
                })
                .collect();
            json!({
                "id": control_token(&group.id),
                "title": group.title,
                "props": [{"name": "label", "value": group.id}],
                "controls": controls,
            })
        })
        .collect();
    json!({
        "catalog": {
            "uuid": uuid("catalog:iso42001-annex-a"),
            "metadata": metadata(
                &format!("{} Annex A controls (identifiers and titles)", catalog.standard),
                "2023-12-18T00:00:00Z",
            ),
            "groups": groups,
        }
    })
}

/// Assessment results: one observation per control with its runtime evidence, one finding
/// per SoA row (satisfied when excluded, or implemented with documentary evidence or with
/// runtime records from logs that all verified), plus the log verifications.
pub fn assessment_results(pack: &EvidencePack) -> Value {
    let at = &pack.generated_at;
    let logs_intact = !pack.logs.is_empty() && pack.logs.iter().all(|log| log.intact);
    let mut observations = Vec::new();
    let mut findings = Vec::new();
    for row in &pack.soa {
        let observation_uuid = uuid(&format!("observation:{at}:{}", row.control_id));
        observations.push(json!({
            "uuid": observation_uuid,
            "title": format!("Runtime evidence for {}", row.control_id),
            "description": format!(
                "{} audit record(s) in the period name {} ({}); implemented by: {}; documentary evidence: {}.",
                row.runtime_records,
                row.control_id,
                row.title,
                if row.implemented_by.is_empty() { "-".to_owned() } else { row.implemented_by.join(", ") },
                if row.evidence_ids.is_empty() { "-".to_owned() } else { row.evidence_ids.join(", ") },
            ),
            "methods": ["EXAMINE", "TEST"],
            "collected": at,
        }));
        // Runtime records count as evidence only when every log verified.
        let evidenced = !row.evidence_ids.is_empty() || (row.runtime_records > 0 && logs_intact);
        let satisfied = !row.applicable || (row.status == "implemented" && evidenced);
        findings.push(json!({
            "uuid": uuid(&format!("finding:{at}:{}", row.control_id)),
            "title": format!("{} {}", row.control_id, row.title),
            "description": if row.applicable {
                format!("Applicable; status {}. {}", row.status, row.justification)
            } else {
                format!("Excluded: {}", row.justification)
            },
            "target": {
                "type": "objective-id",
                "target-id": objective_id(&row.control_id),
                "status": {"state": if satisfied { "satisfied" } else { "not-satisfied" }},
            },
            "related-observations": [{"observation-uuid": observation_uuid}],
        }));
    }
    for log in &pack.logs {
        observations.push(json!({
            "uuid": uuid(&format!("log:{at}:{}", log.dir)),
            "title": format!("Audit log verification: {}", log.dir),
            "description": if log.intact {
                format!("Intact: {} records, consistent with the signed checkpoint.", log.records)
            } else {
                format!("NOT intact: {}", log.problem.as_deref().unwrap_or("unknown problem"))
            },
            "methods": ["TEST"],
            "collected": at,
        }));
    }
    // No OSCAL assessment plan is published: the plan is the guard policy and the register,
    // described in a back-matter resource that `import-ap` points to.
    let plan_uuid = uuid("assessment-plan:aims-runtime");
    json!({
        "assessment-results": {
            "uuid": uuid(&format!("assessment-results:{at}")),
            "metadata": metadata("ISO/IEC 42001 AIMS runtime evidence (aims)", at),
            "import-ap": {"href": format!("#{plan_uuid}")},
            "results": [{
                "uuid": uuid(&format!("result:{at}")),
                "title": "AIMS runtime controls assessment",
                "description": "Statement of Applicability joined with runtime evidence from signed, verified audit logs.",
                "start": at,
                "reviewed-controls": {"control-selections": [{"include-all": {}}]},
                "observations": observations,
                "findings": findings,
            }],
            "back-matter": {"resources": [{
                "uuid": plan_uuid,
                "title": "aims runtime assessment plan",
                "description": "The assessment is the guard policy (rules tagged with Annex A controls) and the AIMS register (Statement of Applicability, risks, incidents), applied to signed, verified audit logs by aims report.",
            }]},
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let id = uuid("x");
        assert_eq!(id, uuid("x"));
        assert_ne!(id, uuid("y"));
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "5");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn catalog_lists_every_control_under_its_group() {
        let catalog = catalog();
        let groups = catalog["catalog"]["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 9);
        let controls: usize = groups
            .iter()
            .map(|group| group["controls"].as_array().unwrap().len())
            .sum();
        assert_eq!(controls, 38);
        assert_eq!(groups[4]["controls"][8]["id"], "a.6.2.8");
    }
}
