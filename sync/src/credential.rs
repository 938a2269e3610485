//! The terminal's shop credential at rest: encrypted with ChaCha20-Poly1305 in the terminal's
//! database (`shop_credential`), with the key in a separate file readable only by the user.
//!
//! Threat model, honestly: the password is never written or logged in plain text, so a copied
//! database file, a backup of it or a support log does not reveal it. The key file lives in the
//! app data directory with mode 0600, so other (non-root) users of the machine cannot read it.
//! Someone who can read both files as this user (malware running as the cashier's account, root,
//! a stolen unencrypted disk) can decrypt the password; an OS keyring would not stop malware in
//! the same session either. Disk encryption protects a stolen machine. The OS keyring (Secret
//! Service / Keychain / Credential Manager) is a drop-in replacement for the key file and is not
//! used yet because this build has no keyring dependency. The associated data binds the
//! ciphertext to its URL and identifier, so a stored credential cannot be replayed for another
//! shop.

use crate::{Secret, SyncError};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use pos_store::sync_state::StoredCredential;
use rand::RngCore;
use std::io::Write;
use std::path::Path;

/// Length of the key in the key file.
pub const KEY_LEN: usize = 32;

/// Reads the key file, creating it (32 random bytes, mode 0600) when missing.
pub fn load_or_create_key(path: &Path) -> Result<[u8; KEY_LEN], SyncError> {
    let err =
        |e: std::io::Error| SyncError::Credential(format!("key file {}: {e}", path.display()));
    match std::fs::read(path) {
        Ok(bytes) => {
            check_private(path)?;
            bytes.try_into().map_err(|_| {
                SyncError::Credential(format!(
                    "key file {} is not {KEY_LEN} bytes",
                    path.display()
                ))
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(err)?;
            }
            let mut key = [0u8; KEY_LEN];
            rand::rngs::OsRng.fill_bytes(&mut key);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options.open(path).map_err(err)?;
            f.write_all(&key).map_err(err)?;
            f.sync_all().map_err(err)?;
            Ok(key)
        }
        Err(e) => Err(err(e)),
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), SyncError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| SyncError::Credential(e.to_string()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(SyncError::Credential(format!(
            "key file {} is readable by other users (mode {:o}): chmod 600 it",
            path.display(),
            mode & 0o777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), SyncError> {
    Ok(())
}

fn aad(url: &str, identifier: &str) -> Vec<u8> {
    format!("pos-sync/v1\n{url}\n{identifier}").into_bytes()
}

/// Encrypts the password for storage.
pub fn seal(
    key: &[u8; KEY_LEN],
    url: &str,
    identifier: &str,
    password: &Secret,
) -> Result<StoredCredential, SyncError> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ad = aad(url, identifier);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: password.expose().as_bytes(),
                aad: &ad,
            },
        )
        .map_err(|_| SyncError::Credential("encryption failed".into()))?;
    Ok(StoredCredential {
        url: url.to_owned(),
        identifier: identifier.to_owned(),
        nonce: nonce.to_vec(),
        ciphertext,
    })
}

/// Decrypts a stored password; fails for another key or a tampered row.
pub fn open(key: &[u8; KEY_LEN], stored: &StoredCredential) -> Result<Secret, SyncError> {
    if stored.nonce.len() != 12 {
        return Err(SyncError::Credential(
            "stored nonce has the wrong length".into(),
        ));
    }
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let ad = aad(&stored.url, &stored.identifier);
    let plain = cipher
        .decrypt(
            Nonce::from_slice(&stored.nonce),
            Payload {
                msg: &stored.ciphertext,
                aad: &ad,
            },
        )
        .map_err(|_| {
            SyncError::Credential("the stored credential cannot be decrypted with this key".into())
        })?;
    String::from_utf8(plain)
        .map(Secret::new)
        .map_err(|_| SyncError::Credential("the stored credential is not text".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_password_is_not_in_the_stored_bytes_and_opens_only_with_its_key_and_shop() {
        let dir = tempfile::tempdir().unwrap();
        let key = load_or_create_key(&dir.path().join("keys/shop.key")).unwrap();
        let again = load_or_create_key(&dir.path().join("keys/shop.key")).unwrap();
        assert_eq!(key, again, "the key file is reused");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("keys/shop.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let pw = Secret::new("correct horse battery");
        let stored = seal(&key, "https://shop.example.com", "till-1", &pw).unwrap();
        let hay = [stored.nonce.clone(), stored.ciphertext.clone()].concat();
        assert!(
            !hay.windows(7).any(|w| w == b"correct"),
            "no plain text at rest"
        );
        assert_eq!(
            open(&key, &stored).unwrap().expose(),
            "correct horse battery"
        );

        let other = [7u8; KEY_LEN];
        assert!(matches!(
            open(&other, &stored),
            Err(SyncError::Credential(_))
        ));
        let mut moved = stored.clone();
        moved.url = "https://evil.example.com".into();
        assert!(open(&key, &moved).is_err(), "bound to its shop URL");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.key");
        std::fs::write(&path, [1u8; KEY_LEN]).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load_or_create_key(&path),
            Err(SyncError::Credential(_))
        ));
    }
}
