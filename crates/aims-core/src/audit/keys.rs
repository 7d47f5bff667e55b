//! Ed25519 keys for signing checkpoints, in the C2SP signed-note text forms:
//! verifier key `NAME+KEYID+BASE64(0x01 || public key)` and signer key
//! `PRIVATE+KEY+NAME+KEYID+BASE64(0x01 || seed)`, where KEYID is the first four bytes (hex)
//! of SHA-256(NAME || "\n" || 0x01 || public key). Both are one line of text in a file.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::files;

/// The environment variable naming the signing key file for commands that write a log.
pub const SIGNING_KEY_ENV: &str = "AIMS_SIGNING_KEY";

/// Where [`NoteSigner::for_log`] found the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The file given explicitly.
    Given(PathBuf),
    /// The file named by `AIMS_SIGNING_KEY`.
    Environment(PathBuf),
    /// The key generated earlier inside the log directory.
    InLogDir(PathBuf),
    /// A new key, just generated inside the log directory. A key kept beside the log
    /// proves integrity only against outsiders: callers should say so.
    Generated(PathBuf),
}

/// The algorithm byte C2SP assigns to Ed25519 note signatures.
const ALG_ED25519: u8 = 0x01;
pub(super) const PRIVATE_PREFIX: &str = "PRIVATE+KEY+";

/// Why a key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key name must be non-empty and hold no `+` and no whitespace.
    #[error("invalid key name {0:?}: it must be non-empty, without '+' or whitespace")]
    Name(String),
    /// The key text is not in the expected form.
    #[error("{path}: not a {expected} key: {reason}")]
    Format {
        /// The file (or `<text>`).
        path: String,
        /// `signer` or `verifier`.
        expected: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A private key file others may read or write.
    #[error("{path}: the private key is accessible to group or others (mode {mode:o}); run chmod 600 on it")]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The system random source failed.
    #[error("no randomness available for a new key: {0}")]
    Random(String),
    /// Reading or writing a key file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

pub(super) fn check_name(name: &str) -> Result<(), KeyError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(KeyError::Name(name.to_string()));
    }
    Ok(())
}

/// The C2SP key id of a key of algorithm `alg`: the first four bytes of
/// SHA-256(name || "\n" || alg || public key).
pub(super) fn key_id(name: &str, alg: u8, public: &VerifyingKey) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([alg]);
    hasher.update(public.as_bytes());
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Fills `buf` from the operating system's random source.
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<(), KeyError> {
    getrandom::fill(buf).map_err(|err| KeyError::Random(err.to_string()))
}

/// A named Ed25519 signing key.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    key_id: u32,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the private key.
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// A signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, KeyError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(&seed);
        let key_id = key_id(name, ALG_ED25519, &key.verifying_key());
        Ok(Self {
            name: name.to_string(),
            key,
            key_id,
        })
    }

    /// A new random signer.
    pub fn generate(name: &str) -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        random_bytes(&mut seed)?;
        Self::from_seed(name, seed)
    }

    /// The signing key for a command that writes the log in `log_dir`: the file `given`,
    /// else the file named by `AIMS_SIGNING_KEY`, else `signing.key` inside the log
    /// directory, generated (with `signing.key.pub`) on first use.
    pub fn for_log(log_dir: &Path, given: Option<&Path>) -> Result<(Self, KeySource), KeyError> {
        if let Some(path) = given {
            return Ok((Self::read(path)?, KeySource::Given(path.to_path_buf())));
        }
        if let Some(path) = std::env::var_os(SIGNING_KEY_ENV).filter(|value| !value.is_empty()) {
            let path = PathBuf::from(path);
            return Ok((Self::read(&path)?, KeySource::Environment(path)));
        }
        let path = log_dir.join(files::GENERATED_KEY);
        if path.exists() {
            return Ok((Self::read(&path)?, KeySource::InLogDir(path)));
        }
        files::Layout::new(log_dir)
            .create_dir()
            .map_err(|source| KeyError::Io {
                path: log_dir.to_path_buf(),
                source,
            })?;
        let signer = Self::generate("aims-audit")?;
        signer.write(&path)?;
        Ok((signer, KeySource::Generated(path)))
    }

    /// Parses the `PRIVATE+KEY+...` text form.
    pub fn parse(text: &str, origin: &str) -> Result<Self, KeyError> {
        let bad = |reason| KeyError::Format {
            path: origin.to_string(),
            expected: "signer",
            reason,
        };
        let rest = text
            .trim()
            .strip_prefix(PRIVATE_PREFIX)
            .ok_or(bad("it does not start with PRIVATE+KEY+"))?;
        let (name, id, material) = split_key(rest).ok_or(bad("expected NAME+KEYID+BASE64"))?;
        let seed = decode_material(ALG_ED25519, material).ok_or(bad("bad key material"))?;
        let signer = Self::from_seed(name, seed)?;
        if format!("{:08x}", signer.key_id) != id {
            return Err(bad("the key id does not match the key"));
        }
        Ok(signer)
    }

    /// Reads a signer key file. A key file that group or others may read or write is
    /// refused, as ssh does: whoever else could read it could sign for the log.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        use std::os::unix::fs::PermissionsExt;
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: path.to_path_buf(),
                mode: mode & 0o777,
            });
        }
        Self::parse(&read_key_file(path)?, &path.display().to_string())
    }

    /// Writes the private key to `path` (mode 0600, refusing to overwrite) and the verifier
    /// key to `path` + `.pub`.
    pub fn write(&self, path: &Path) -> Result<PathBuf, KeyError> {
        write_key_files(path, &self.to_text(), &self.verifier().to_string())
    }

    /// The private text form. Only for writing the key file.
    fn to_text(&self) -> String {
        key_text(
            PRIVATE_PREFIX,
            &self.name,
            self.key_id,
            ALG_ED25519,
            self.key.as_bytes(),
        )
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The key id, for structures other than notes that name the key (COSE receipts).
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// A plain Ed25519 signature over `message`, for structures other than notes (the COSE
    /// receipt's Sig_structure).
    pub(crate) fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// The note signature line for `text`: `— NAME BASE64(KEYID || SIGNATURE)`.
    pub fn signature_line(&self, text: &str) -> String {
        format!(
            "\u{2014} {} {}\n",
            self.name,
            BASE64.encode(self.sign_blob(text))
        )
    }

    /// The signature blob `KEYID || SIGNATURE` over `text`.
    pub(crate) fn sign_blob(&self, text: &str) -> Vec<u8> {
        let signature = self.key.sign(text.as_bytes());
        let mut blob = self.key_id.to_be_bytes().to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        blob
    }

    /// A secret derived from the private key for one purpose (`context`): HMAC-SHA256 keyed
    /// with the seed. Only the key's holder can compute it.
    pub(crate) fn derive_secret(&self, context: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.as_bytes()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(context);
        mac.finalize().into_bytes().into()
    }
}

/// A named Ed25519 verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses the `NAME+KEYID+BASE64` text form.
    pub fn parse(text: &str, origin: &str) -> Result<Self, KeyError> {
        let bad = |reason| KeyError::Format {
            path: origin.to_string(),
            expected: "verifier",
            reason,
        };
        let text = text.trim();
        if text.starts_with(PRIVATE_PREFIX) {
            return Err(bad("this is a private key; give the .pub file"));
        }
        let (name, id, material) = split_key(text).ok_or(bad("expected NAME+KEYID+BASE64"))?;
        check_name(name)?;
        let public = decode_material(ALG_ED25519, material).ok_or(bad("bad key material"))?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 point"))?;
        let key_id = key_id(name, ALG_ED25519, &key);
        if format!("{key_id:08x}") != id {
            return Err(bad("the key id does not match the key"));
        }
        Ok(Self {
            name: name.to_string(),
            key_id,
            key,
        })
    }

    /// Reads a verifier key file.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        Self::parse(&read_key_file(path)?, &path.display().to_string())
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Checks a note signature line (`— NAME BASE64(KEYID || SIGNATURE)`) by this key over
    /// `text`.
    pub fn verify_signature_line(&self, text: &str, line: &str) -> bool {
        line.strip_prefix("\u{2014} ")
            .and_then(|rest| rest.split_once(' '))
            .filter(|(name, _)| *name == self.name)
            .and_then(|(_, blob)| BASE64.decode(blob).ok())
            .is_some_and(|blob| self.verify_blob(text, &blob))
    }

    /// Checks a plain Ed25519 signature over `message` (see [`NoteSigner::sign_bytes`]).
    pub(crate) fn verify_bytes(&self, message: &[u8], signature: &[u8]) -> bool {
        <[u8; 64]>::try_from(signature).is_ok_and(|signature| {
            self.key
                .verify_strict(message, &Signature::from_bytes(&signature))
                .is_ok()
        })
    }

    /// Checks a signature blob (`KEYID || SIGNATURE`) by this key over `text`.
    pub(crate) fn verify_blob(&self, text: &str, blob: &[u8]) -> bool {
        let Some((id, signature)) = blob.split_first_chunk::<4>() else {
            return false;
        };
        let Ok(signature) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        u32::from_be_bytes(*id) == self.key_id
            && self
                .key
                .verify_strict(text.as_bytes(), &Signature::from_bytes(&signature))
                .is_ok()
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&key_text(
            "",
            &self.name,
            self.key_id,
            ALG_ED25519,
            self.key.as_bytes(),
        ))
    }
}

/// `<prefix>NAME+KEYID+BASE64(alg || material)`: the C2SP text form of a key.
pub(super) fn key_text(prefix: &str, name: &str, key_id: u32, alg: u8, material: &[u8]) -> String {
    let mut bytes = vec![alg];
    bytes.extend_from_slice(material);
    format!("{prefix}{name}+{key_id:08x}+{}", BASE64.encode(bytes))
}

/// Writes a private key file (mode 0600, refusing to overwrite) and its public key beside it
/// (`path` + `.pub`); returns the public key's path.
pub(super) fn write_key_files(
    path: &Path,
    private_text: &str,
    public_text: &str,
) -> Result<PathBuf, KeyError> {
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    let pub_path = PathBuf::from(pub_path);
    for (path, text) in [(path, private_text), (pub_path.as_path(), public_text)] {
        let mut file = files::create_new_private(path).map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        file.write_all(format!("{text}\n").as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|source| KeyError::Io {
                path: path.to_path_buf(),
                source,
            })?;
    }
    Ok(pub_path)
}

/// Reads a key file's text.
pub(super) fn read_key_file(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

pub(super) fn split_key(text: &str) -> Option<(&str, &str, &str)> {
    let mut parts = text.splitn(3, '+');
    let name = parts.next()?;
    let id = parts.next()?;
    let material = parts.next()?;
    (id.len() == 8
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    .then_some((name, id, material))
}

/// Decodes `BASE64(alg || 32 bytes)`, `None` for another algorithm or length.
pub(super) fn decode_material(alg: u8, material: &str) -> Option<[u8; 32]> {
    let bytes = BASE64.decode(material).ok()?;
    let (found, key) = bytes.split_first()?;
    if *found != alg {
        return None;
    }
    key.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip_and_check_the_key_id() {
        let signer = NoteSigner::from_seed("aims-test", [9; 32]).unwrap();
        let verifier = signer.verifier();
        let text = verifier.to_string();
        assert!(text.starts_with("aims-test+"));
        assert_eq!(NoteVerifier::parse(&text, "t").unwrap(), verifier);
        let again = NoteSigner::parse(&signer.to_text(), "t").unwrap();
        assert_eq!(again.verifier(), verifier);
        // A wrong key id is refused.
        let id = format!("{:08x}", verifier.key_id());
        let other = if id.starts_with('0') { "1" } else { "0" };
        let tampered = text.replacen(&id[..1], other, 1);
        assert!(NoteVerifier::parse(&tampered, "t").is_err());
        assert!(NoteVerifier::parse(&signer.to_text(), "t").is_err());
        assert!(NoteSigner::from_seed("has space", [1; 32]).is_err());
        assert!(NoteSigner::from_seed("a+b", [1; 32]).is_err());
        assert!(!format!("{signer:?}").contains(&BASE64.encode([9u8; 32])));
    }

    #[test]
    fn a_log_without_a_given_key_generates_one_once_inside_its_directory() {
        // The environment is shared by every test thread, so it is read, never set.
        assert!(
            std::env::var_os(SIGNING_KEY_ENV).is_none(),
            "run the tests without {SIGNING_KEY_ENV}"
        );
        let dir = tempfile::tempdir().unwrap();
        let log_dir = dir.path().join("log");
        let (first, source) = NoteSigner::for_log(&log_dir, None).unwrap();
        assert_eq!(source, KeySource::Generated(log_dir.join("signing.key")));
        let (again, source) = NoteSigner::for_log(&log_dir, None).unwrap();
        assert_eq!(source, KeySource::InLogDir(log_dir.join("signing.key")));
        assert_eq!(again.verifier(), first.verifier());
        assert_eq!(
            NoteVerifier::read(&log_dir.join("signing.key.pub")).unwrap(),
            first.verifier()
        );
        let elsewhere = dir.path().join("k");
        NoteSigner::from_seed("x", [5; 32])
            .unwrap()
            .write(&elsewhere)
            .unwrap();
        let (given, source) = NoteSigner::for_log(&log_dir, Some(&elsewhere)).unwrap();
        assert_eq!(source, KeySource::Given(elsewhere));
        assert_eq!(given.name(), "x");
    }

    #[test]
    fn signature_lines_verify_only_with_the_same_key_and_text() {
        let signer = NoteSigner::from_seed("k", [1; 32]).unwrap();
        let line = signer.signature_line("hello\n");
        let blob = BASE64
            .decode(line.trim_end().rsplit(' ').next().unwrap())
            .unwrap();
        assert!(signer.verifier().verify_blob("hello\n", &blob));
        assert!(!signer.verifier().verify_blob("hellO\n", &blob));
        let other = NoteSigner::from_seed("k", [2; 32]).unwrap();
        assert!(!other.verifier().verify_blob("hello\n", &blob));
    }
}
