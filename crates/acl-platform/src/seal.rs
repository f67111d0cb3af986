//! Sealed secrets (issue 20): what must be kept to verify a Backend.AI request signature
//! (the keypair's secret itself, not a hash of it) is stored only sealed with a master key,
//! an AEAD (XChaCha20-Poly1305), bound to the access key it belongs to.
//!
//! [`MasterKey`] is 32 bytes, given as 64 hexadecimal digits (`openssl rand -hex 32`); its
//! `Debug` hides it. [`SealedSecret::seal`] takes the nonce's randomness from the caller
//! (an [`Entropy`]), so this stays free of I/O; [`SealedSecret::open`] fails, changing
//! nothing, on another master key, another access key, or a row edited in any way. The
//! stored text is `xc20p1:` then the 24-byte nonce and the ciphertext with its tag, in hex:
//! it holds nothing of the secret in clear.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use acl_core::{Error, Result};

use crate::account::Entropy;

/// The prefix of a sealed secret's stored text: the AEAD and the format's version.
const PREFIX: &str = "xc20p1:";
/// The nonce's length, in bytes.
const NONCE: usize = 24;

/// The key secrets are sealed with. Read it from the environment or a file, never from a
/// command line; it is never stored, logged or exported.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// The key `text` gives as 64 hexadecimal digits (surrounding whitespace, such as a
    /// file's last newline, ignored). Anything else is [`Error::InvalidInput`], which never
    /// repeats the text.
    pub fn from_hex(text: &str) -> Result<MasterKey> {
        let text = text.trim();
        let bytes = decode_hex(text).ok_or_else(|| {
            Error::InvalidInput(format!(
                "the master key must be 64 hexadecimal digits (32 bytes, e.g. from `openssl rand -hex 32`); got {} characters that are not",
                text.chars().count()
            ))
        })?;
        let key: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
            Error::InvalidInput(format!(
                "the master key must be 32 bytes (64 hexadecimal digits); got {}",
                bytes.len()
            ))
        })?;
        Ok(MasterKey(key))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

/// A secret sealed with a [`MasterKey`] for one access key: what a store keeps. It
/// serializes as its stored text (in a dump) and deserializes only from a well-formed one.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SealedSecret(String);

impl TryFrom<String> for SealedSecret {
    type Error = Error;

    fn try_from(text: String) -> Result<SealedSecret> {
        SealedSecret::from_stored(&text)
    }
}

impl From<SealedSecret> for String {
    fn from(sealed: SealedSecret) -> String {
        sealed.0
    }
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedSecret(..)")
    }
}

impl SealedSecret {
    /// Seals `secret` for `access_key` with `key`, a fresh nonce from `entropy`.
    pub fn seal(
        key: &MasterKey,
        access_key: &str,
        secret: &str,
        entropy: &mut dyn Entropy,
    ) -> Result<SealedSecret> {
        let mut nonce = [0u8; NONCE];
        entropy.fill(&mut nonce);
        let sealed = key
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: access_key.as_bytes(),
                },
            )
            .map_err(|_| Error::Storage("sealing a secret failed".to_owned()))?;
        let mut text = String::with_capacity(PREFIX.len() + 2 * (NONCE + sealed.len()));
        text.push_str(PREFIX);
        push_hex(&mut text, &nonce);
        push_hex(&mut text, &sealed);
        Ok(SealedSecret(text))
    }

    /// The secret sealed for `access_key`, opened with `key`. Another key, another access
    /// key or an edited row is [`Error::Storage`] naming the access key.
    pub fn open(&self, key: &MasterKey, access_key: &str) -> Result<String> {
        let refused = || {
            Error::Storage(format!(
                "the secret of keypair `{access_key}` cannot be unsealed: another master key sealed it, or its row was changed"
            ))
        };
        let bytes = self
            .0
            .strip_prefix(PREFIX)
            .and_then(decode_hex)
            .ok_or_else(refused)?;
        let (nonce, sealed) = bytes.split_at_checked(NONCE).ok_or_else(refused)?;
        let opened = key
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: access_key.as_bytes(),
                },
            )
            .map_err(|_| refused())?;
        String::from_utf8(opened).map_err(|_| refused())
    }

    /// The stored text.
    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// A sealed secret read back from a store: the format is checked, the content only
    /// when it is opened.
    pub fn from_stored(text: &str) -> Result<SealedSecret> {
        let well_formed = text
            .strip_prefix(PREFIX)
            .and_then(decode_hex)
            .is_some_and(|bytes| bytes.len() > NONCE);
        if well_formed {
            Ok(SealedSecret(text.to_owned()))
        } else {
            Err(Error::Storage(
                "a stored sealed secret is not in the `xc20p1:` format".to_owned(),
            ))
        }
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    use std::fmt::Write as _;
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => Some((digit(*hi)? << 4) | digit(*lo)?),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn counter() -> impl FnMut(&mut [u8]) {
        let mut next = 0u8;
        move |buf: &mut [u8]| {
            for b in buf {
                *b = next;
                next = next.wrapping_add(1);
            }
        }
    }

    #[test]
    fn a_sealed_secret_opens_with_its_key_and_access_key_only() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let sealed = SealedSecret::seal(&key, "AKIA1", SECRET, &mut counter()).unwrap();
        assert!(sealed.as_stored().starts_with("xc20p1:"));
        assert!(!sealed.as_stored().contains(SECRET));
        assert!(!sealed.as_stored().contains(&SECRET.to_ascii_lowercase()));
        assert_eq!(sealed.open(&key, "AKIA1").unwrap(), SECRET);
        let again = SealedSecret::from_stored(sealed.as_stored()).unwrap();
        assert_eq!(again.open(&key, "AKIA1").unwrap(), SECRET);
        // another access key, another master key
        let err = sealed.open(&key, "AKIA2").unwrap_err();
        assert_eq!(err.kind(), acl_core::ErrorKind::Storage);
        assert!(err.to_string().contains("`AKIA2`"), "{err}");
        let other = MasterKey::from_hex(&KEY.replace("1f", "20")).unwrap();
        assert!(sealed.open(&other, "AKIA1").is_err());
        // every byte of the row matters
        let text = sealed.as_stored();
        for at in PREFIX.len()..text.len() {
            let mut edited = text.as_bytes().to_vec();
            edited[at] = if edited[at] == b'0' { b'1' } else { b'0' };
            let edited = String::from_utf8(edited).unwrap();
            let opened = SealedSecret::from_stored(&edited).and_then(|s| s.open(&key, "AKIA1"));
            assert!(opened.is_err(), "edited at {at}");
        }
        // two seals of one secret differ (fresh nonces)
        let twice = SealedSecret::seal(&key, "AKIA1", SECRET, &mut counter()).unwrap();
        let mut rng = counter();
        rng(&mut [0u8; 24]);
        let third = SealedSecret::seal(&key, "AKIA1", SECRET, &mut rng).unwrap();
        assert_eq!(twice, sealed, "same nonce, same text");
        assert_ne!(third, sealed);
    }

    #[test]
    fn bad_master_keys_and_rows_are_refused_without_repeating_them() {
        for bad in [
            "",
            "00",
            &KEY[..62],
            &format!("{KEY}00"),
            &KEY.replace('0', "g"),
        ] {
            let err = MasterKey::from_hex(bad).unwrap_err();
            assert_eq!(err.kind(), acl_core::ErrorKind::InvalidInput, "{bad}");
            if bad.len() > 4 {
                assert!(!err.to_string().contains(bad), "{err}");
            }
        }
        assert!(MasterKey::from_hex(&format!("  {KEY}\n")).is_ok());
        assert_eq!(
            format!("{:?}", MasterKey::from_hex(KEY).unwrap()),
            "MasterKey(..)"
        );
        for bad in ["", "xc20p1:", "xc20p1:zz", "plain", "xc20p1:00"] {
            assert!(SealedSecret::from_stored(bad).is_err(), "{bad}");
        }
    }
}
