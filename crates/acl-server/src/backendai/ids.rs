//! Stable UUIDs for users, folders and projects (rule B1): what the client expects in paths
//! and bodies (`vfolder_id`, `shared_to.uuid`, `group`), derived, not stored. Each is the
//! version-5 UUID of `user:NAME`, `vfolder:ID` or `group:NAME` under [`namespace`], so the
//! same entity has the same UUID on every server sharing the store and after a restart,
//! and a UUID is resolved by deriving the UUIDs of the candidates the caller sees.

use acl_core::PrincipalName;
use acl_platform::FolderId;
use uuid::Uuid;

/// The namespace of every UUID here: the version-5 UUID of `urn:acl:backendai` in the
/// URL namespace.
pub(crate) fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:acl:backendai")
}

/// The UUID of user `name`.
pub(crate) fn user(name: &PrincipalName) -> Uuid {
    Uuid::new_v5(&namespace(), format!("user:{name}").as_bytes())
}

/// The UUID of folder `id`.
pub(crate) fn folder(id: &FolderId) -> Uuid {
    Uuid::new_v5(&namespace(), format!("vfolder:{id}").as_bytes())
}

/// The UUID of group (project) `name`.
pub(crate) fn group(name: &PrincipalName) -> Uuid {
    Uuid::new_v5(&namespace(), format!("group:{name}").as_bytes())
}

/// `text` as a UUID if it is one as the client writes them: 32 hex digits, or the
/// hyphenated form of 36 characters. Anything else (a name) is `None`.
pub(crate) fn parse(text: &str) -> Option<Uuid> {
    let plain = text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit());
    let hyphenated = text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if plain || hyphenated {
        Uuid::parse_str(text).ok()
    } else {
        None
    }
}

/// A UUID as the v1 SDK sends folder ids in paths: 32 hex digits.
pub(crate) fn hex(uuid: &Uuid) -> String {
    uuid.simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rule B1: stable UUIDs, distinct per kind, parsed with or without dashes.
    #[test]
    fn uuids_are_stable_and_parse_both_forms() {
        let alice = PrincipalName::new("alice").unwrap();
        assert_eq!(user(&alice), user(&alice));
        assert_ne!(user(&alice), group(&alice));
        let id = FolderId::new("f12").unwrap();
        let uuid = folder(&id);
        assert_eq!(uuid.get_version_num(), 5);
        assert_eq!(parse(&hex(&uuid)), Some(uuid));
        assert_eq!(parse(&uuid.hyphenated().to_string()), Some(uuid));
        assert_eq!(
            parse(&uuid.hyphenated().to_string().to_uppercase()),
            Some(uuid)
        );
        let braced = format!("{{{uuid}}}");
        let not_hex = "g".repeat(32);
        for name in ["tests", "f12", "", "{0000}", &braced, &not_hex] {
            assert_eq!(parse(name), None, "{name}");
        }
        // fixed vectors (Python's uuid.uuid5 gives the same): the UUIDs never change
        assert_eq!(
            namespace().to_string(),
            "a172bf9b-9dc6-566f-92e0-1d6f7b015d5f"
        );
        assert_eq!(
            user(&alice).to_string(),
            "d94b0a96-b98f-5514-bf2c-1dd4bf76a636"
        );
    }
}
