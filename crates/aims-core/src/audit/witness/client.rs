//! The log's side of C2SP `tlog-witness`: asks each configured witness to cosign a signed
//! checkpoint, with a consistency proof from the size the witness last cosigned (learnt from
//! a 409 answer when unknown), and keeps only cosignatures that verify with the witness's key.
//! A witness that is down, slow or refuses is reported, never an error: the log goes on.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::super::checkpoint::SignedCheckpoint;
use super::super::files::Layout;
use super::super::merkle::Hash;
use super::cosignature::{split_note, CosignerVerifier};
use super::service::SIZE_CONTENT_TYPE;

/// The file in a log directory that lists the witnesses the writer asks: one `URL KEY` per
/// line (the witness's submission prefix and its `cosignature/v1` verifier key), `#`
/// comments and blank lines ignored.
pub const WITNESSES_FILE: &str = "witnesses";

/// How long one witness may take to answer.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read from a witness.
const MAX_ANSWER_BYTES: u64 = 16 * 1024;

/// One witness: where to reach it and the key its cosignatures verify with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessEndpoint {
    /// The submission prefix, e.g. `http://127.0.0.1:7380` (`/add-checkpoint` is appended).
    pub url: String,
    /// Its verifier key.
    pub key: CosignerVerifier,
}

/// A witness list that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{origin}:{line}: {reason}")]
pub struct ConfigError {
    /// The file.
    pub origin: String,
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Parses a witness list (the [`WITNESSES_FILE`] form); `origin` names it in errors.
pub fn parse_witnesses(text: &str, origin: &str) -> Result<Vec<WitnessEndpoint>, ConfigError> {
    let mut witnesses = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |reason: String| ConfigError {
            origin: origin.to_string(),
            line: number + 1,
            reason,
        };
        let (url, key) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad("expected `URL KEY`".into()))?;
        if !url.starts_with("http://") {
            return Err(bad(format!(
                "{url:?}: expected an http:// URL (cosignatures are checked by signature, so \
                 plain HTTP is enough)"
            )));
        }
        let key =
            CosignerVerifier::parse(key.trim(), origin).map_err(|err| bad(err.to_string()))?;
        witnesses.push(WitnessEndpoint {
            url: url.trim_end_matches('/').to_string(),
            key,
        });
    }
    Ok(witnesses)
}

/// A witness that did not cosign, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessFailure {
    /// The witness's name.
    pub witness: String,
    /// What happened.
    pub reason: String,
}

/// What asking the witnesses gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cosigning {
    /// Verified cosignature lines (each with its newline), to append to the checkpoint note.
    pub lines: String,
    /// The witnesses that cosigned.
    pub cosigned: Vec<String>,
    /// The witnesses that did not.
    pub failures: Vec<WitnessFailure>,
}

impl Cosigning {
    /// `signed` with the cosignature lines appended to its note.
    pub fn apply(&self, signed: &SignedCheckpoint) -> SignedCheckpoint {
        SignedCheckpoint {
            checkpoint: signed.checkpoint.clone(),
            note: format!("{}{}", signed.note, self.lines),
        }
    }
}

/// Asks witnesses to cosign checkpoints.
#[derive(Debug)]
pub struct WitnessClient {
    agent: ureq::Agent,
    witnesses: Vec<WitnessEndpoint>,
    /// The size each witness last cosigned, as far as this client knows (0: unknown).
    sizes: Mutex<Vec<u64>>,
}

impl WitnessClient {
    /// A client for `witnesses`, each allowed `timeout` per request.
    pub fn new(witnesses: Vec<WitnessEndpoint>, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into();
        let sizes = Mutex::new(vec![0; witnesses.len()]);
        Self {
            agent,
            witnesses,
            sizes,
        }
    }

    /// The client for the witnesses listed in the log directory's [`WITNESSES_FILE`], `None`
    /// when there is no such file.
    pub fn for_log_dir(dir: &Path) -> Result<Option<Self>, ConfigError> {
        let layout = Layout::new(dir);
        let path = layout.path(WITNESSES_FILE);
        let origin = path.display().to_string();
        let text = layout
            .read_optional(WITNESSES_FILE)
            .map_err(|err| ConfigError {
                origin: origin.clone(),
                line: 0,
                reason: err.to_string(),
            })?;
        text.map(|text| {
            parse_witnesses(&text, &origin).map(|list| Self::new(list, DEFAULT_TIMEOUT))
        })
        .transpose()
    }

    /// The witnesses asked.
    pub fn witnesses(&self) -> &[WitnessEndpoint] {
        &self.witnesses
    }

    /// Asks every witness, in parallel, to cosign `signed`. `prove(old)` gives the RFC 9162
    /// consistency proof from the tree of `old` records to the checkpoint's.
    pub fn cosign(
        &self,
        signed: &SignedCheckpoint,
        prove: &(dyn Fn(u64) -> Result<Vec<Hash>, String> + Sync),
    ) -> Cosigning {
        let known = self
            .sizes
            .lock()
            .map_or_else(|_| vec![0; self.witnesses.len()], |sizes| sizes.clone());
        let answers: Vec<Result<(String, u64), String>> = std::thread::scope(|scope| {
            let asks: Vec<_> = self
                .witnesses
                .iter()
                .zip(known)
                .map(|(witness, old)| scope.spawn(move || self.ask(witness, old, signed, prove)))
                .collect();
            asks.into_iter()
                .map(|ask| {
                    ask.join()
                        .unwrap_or_else(|_| Err("the request thread panicked".into()))
                })
                .collect()
        });
        let mut outcome = Cosigning::default();
        let mut sizes = self.sizes.lock().ok();
        for (at, (witness, answer)) in self.witnesses.iter().zip(answers).enumerate() {
            match answer {
                Ok((lines, size)) => {
                    outcome.lines.push_str(&lines);
                    outcome.cosigned.push(witness.key.name().to_string());
                    if let Some(slot) = sizes.as_mut().and_then(|sizes| sizes.get_mut(at)) {
                        *slot = size;
                    }
                }
                Err(reason) => outcome.failures.push(WitnessFailure {
                    witness: witness.key.name().to_string(),
                    reason,
                }),
            }
        }
        outcome
    }

    /// One witness: the request from `old`, and once more from the size a 409 names.
    fn ask(
        &self,
        witness: &WitnessEndpoint,
        mut old: u64,
        signed: &SignedCheckpoint,
        prove: &(dyn Fn(u64) -> Result<Vec<Hash>, String> + Sync),
    ) -> Result<(String, u64), String> {
        let size = signed.checkpoint.size;
        let (checkpoint_body, _) =
            split_note(&signed.note).ok_or("the checkpoint note has no signature lines")?;
        if old > size {
            old = 0;
        }
        for _attempt in 0..2 {
            let proof = if old == 0 || old == size {
                Vec::new()
            } else {
                prove(old).map_err(|err| format!("no consistency proof from {old}: {err}"))?
            };
            let mut body = format!("old {old}\n");
            for hash in &proof {
                body.push_str(&BASE64.encode(hash));
                body.push('\n');
            }
            body.push('\n');
            body.push_str(&signed.note);
            let (status, content_type, answer) = self.post(witness, &body)?;
            match status {
                200 => {
                    let lines: String = answer
                        .lines()
                        .filter(|line| witness.key.verify_line(checkpoint_body, line).is_some())
                        .map(|line| format!("{line}\n"))
                        .collect();
                    if lines.is_empty() {
                        return Err("answered 200 without a valid cosignature".into());
                    }
                    return Ok((lines, size));
                }
                409 if content_type.starts_with(SIZE_CONTENT_TYPE) => {
                    let theirs = answer
                        .trim_end()
                        .parse::<u64>()
                        .map_err(|_| "answered 409 without a size".to_string())?;
                    if theirs > size {
                        return Err(format!(
                            "it already cosigned size {theirs}, larger than this checkpoint's \
                             {size}: the log was rolled back or forked"
                        ));
                    }
                    if theirs == old {
                        break;
                    }
                    old = theirs;
                }
                status => {
                    return Err(format!(
                        "answered {status}: {}",
                        answer
                            .lines()
                            .next()
                            .unwrap_or("")
                            .chars()
                            .take(200)
                            .collect::<String>()
                    ))
                }
            }
        }
        Err(format!("it keeps answering 409 (it holds size {old})"))
    }

    fn post(&self, witness: &WitnessEndpoint, body: &str) -> Result<(u16, String, String), String> {
        let url = format!("{}/add-checkpoint", witness.url);
        let mut response = self
            .agent
            .post(&url)
            .content_type("text/plain; charset=utf-8")
            .send(body)
            .map_err(|err| format!("{url}: {err}"))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_string();
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(|err| format!("{url}: reading the answer: {err}"))?;
        Ok((status, content_type, answer))
    }
}
