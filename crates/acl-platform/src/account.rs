//! Accounts and keypairs (rules A1 to A3, A5): the validated fields of a user's profile,
//! password and secret hashing with argon2id, and the typed rows the stores keep.
//!
//! Access is still grants: an account row records a user's profile and its role, and the
//! role is held as membership of a cluster role (rule A4), so a check never reads it.
//!
//! Randomness is I/O, so acl-core never draws it: salts, access keys and secrets come from
//! an [`Entropy`] the caller supplies (the adapter fills it from the OS; tests fill it
//! deterministically). Hashing is pure computation, at the [`HashCost`] of the engine's
//! options.

use std::fmt;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

use acl_core::Timestamp;
use acl_core::{ClusterName, PrincipalName};
use acl_core::{Error, FieldError, FieldProblem, Result, clip};

use crate::problems::Problems;

/// The longest email, username, full name and domain, in characters (rule A1).
pub const MAX_ACCOUNT_FIELD: usize = 64;
/// The shortest password, in characters (rule A2).
pub const MIN_PASSWORD: usize = 8;
/// The longest password, in characters: bounds the hashing work one request can ask for.
pub const MAX_PASSWORD: usize = 256;

/// A source of random bytes, supplied by the caller: acl-core does no I/O, and drawing
/// randomness is I/O. Adapters fill it from the operating system; tests deterministically.
///
/// Every `FnMut(&mut [u8])` is one.
pub trait Entropy {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

impl<F: FnMut(&mut [u8])> Entropy for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf)
    }
}

/// The cost of argon2id hashing of passwords and keypair secrets.
///
/// The default is the argon2 crate's recommendation ([`HashCost::recommended`]: 19 MiB,
/// 2 passes, 1 lane). [`HashCost::minimum`] is the least argon2 accepts, for tests and
/// property suites that hash thousands of passwords; it is no protection for real ones.
/// Verification reads the cost from the stored hash, so changing the cost never locks
/// anyone out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashCost {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl HashCost {
    /// The argon2 crate's recommended parameters.
    pub const fn recommended() -> HashCost {
        HashCost {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
        }
    }

    /// The least cost argon2 accepts: for tests only.
    pub const fn minimum() -> HashCost {
        HashCost {
            memory_kib: Params::MIN_M_COST,
            iterations: Params::MIN_T_COST,
            parallelism: Params::MIN_P_COST,
        }
    }

    fn hasher(self) -> Result<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| Error::InvalidInput(format!("invalid hash cost: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

impl Default for HashCost {
    fn default() -> Self {
        HashCost::recommended()
    }
}

/// A stored argon2id hash of a password or secret, in the PHC string format
/// (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`). Never the secret itself.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretHash(String);

impl SecretHash {
    /// Hashes `secret` with a fresh 16-byte salt from `entropy`, at `cost`.
    pub fn hash(secret: &str, cost: HashCost, entropy: &mut dyn Entropy) -> Result<SecretHash> {
        let mut salt = [0u8; 16];
        entropy.fill(&mut salt);
        let salt =
            SaltString::encode_b64(&salt).map_err(|e| Error::InvalidInput(format!("salt: {e}")))?;
        let hash = cost
            .hasher()?
            .hash_password(secret.as_bytes(), &salt)
            .map_err(|e| Error::InvalidInput(format!("hashing failed: {e}")))?;
        Ok(SecretHash(hash.to_string()))
    }

    /// A stored hash, as read back from a store; refused unless it parses as a PHC string.
    pub fn from_stored(text: &str) -> Result<SecretHash> {
        argon2::PasswordHash::new(text)
            .map_err(|e| Error::InvalidInput(format!("not a password hash: {e}")))?;
        Ok(SecretHash(text.to_owned()))
    }

    /// Whether `secret` matches. A malformed stored hash matches nothing.
    pub fn verify(&self, secret: &str) -> bool {
        match argon2::PasswordHash::new(&self.0) {
            Ok(parsed) => Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// The PHC string, for storing.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

fn one(field: &'static str, problem: FieldProblem) -> Error {
    Error::InvalidFields(vec![FieldError { field, problem }])
}

/// The length problems of `text` for a field of at most `max` characters.
fn length(problems: &mut Problems, field: &'static str, text: &str, max: usize) {
    if text.chars().count() > max {
        problems.add(field, FieldProblem::TooLong { max });
    }
}

const EMAIL_LOCAL: &str = "!#$%&'*+/=?^_`{|}~.-";

/// An email address (rule A1): at most 64 characters, `local@domain` with an ASCII local
/// part (letters, digits and ``!#$%&'*+/=?^_`{|}~.-``, no leading, trailing or doubled dot)
/// and a domain of at least two dot-separated labels of letters, digits and inner hyphens.
/// Kept as given; compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Validates `text`, naming every failing rule.
    pub fn new(text: &str) -> Result<Email> {
        const F: &str = "email";
        let mut problems = Problems::default();
        if text.is_empty() {
            return Err(one(F, FieldProblem::Empty));
        }
        length(&mut problems, F, text, MAX_ACCOUNT_FIELD);
        if let Some(reason) = email_syntax(text) {
            problems.add(F, FieldProblem::BadSyntax { reason });
        }
        problems.into_result()?;
        Ok(Email(text.to_owned()))
    }

    /// The address as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercase form uniqueness is decided on (rule A1).
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

fn email_syntax(text: &str) -> Option<&'static str> {
    let mut parts = text.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Some("an email needs exactly one `@`");
    };
    if local.is_empty() {
        return Some("an email needs a local part before `@`");
    }
    if !local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || EMAIL_LOCAL.contains(c))
    {
        return Some(
            "the local part of an email has a character outside [A-Za-z0-9] and !#$%&'*+/=?^_`{|}~.-",
        );
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some("the local part of an email has a leading, trailing or doubled `.`");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Some("the domain of an email needs at least two labels (`example.org`)");
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !labels.iter().all(label_ok) {
        return Some(
            "each label of an email's domain is 1 to 63 of [A-Za-z0-9-], not starting or ending with `-`",
        );
    }
    None
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = Error;
    fn try_from(text: String) -> Result<Email> {
        Email::new(&text)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

/// Validates `text` as a username (rule A1): 1 to 64 characters of `[A-Za-z0-9_.-]`, not
/// `.` or `..`, and not the cluster's name. A username is the user's principal name (rule
/// P1), so the charset is the principal one restricted to a single segment. Uniqueness is
/// case-insensitive.
pub fn username(text: &str, cluster: &ClusterName) -> Result<PrincipalName> {
    const F: &str = "username";
    let mut problems = Problems::default();
    if text.is_empty() {
        problems.add(F, FieldProblem::Empty);
    }
    length(&mut problems, F, text, MAX_ACCOUNT_FIELD);
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        problems.add(
            F,
            FieldProblem::BadCharacter {
                allowed: "[A-Za-z0-9_.-]",
            },
        );
    }
    if text == "." || text == ".." {
        problems.add(
            F,
            FieldProblem::Reserved {
                reason: "`.` and `..` are not names",
            },
        );
    }
    if text == cluster.as_str() {
        problems.add(
            F,
            FieldProblem::Reserved {
                reason: "it is the cluster's name",
            },
        );
    }
    problems.into_result()?;
    PrincipalName::new(text)
}

/// The lowercase form of a username uniqueness is decided on (rule A1).
pub fn username_key(name: &PrincipalName) -> String {
    name.as_str().to_ascii_lowercase()
}

/// Validates a full name (rule A1): at most 64 characters, no control characters; may be
/// empty.
pub fn full_name(text: &str) -> Result<String> {
    const F: &str = "full name";
    let mut problems = Problems::default();
    length(&mut problems, F, text, MAX_ACCOUNT_FIELD);
    if text.chars().any(char::is_control) {
        problems.add(F, FieldProblem::ControlCharacter);
    }
    problems.into_result()?;
    Ok(text.to_owned())
}

/// Validates a domain name (a plain attribute of users and groups): 1 to 64 characters of
/// `[A-Za-z0-9_.-]`.
pub fn domain(text: &str) -> Result<String> {
    const F: &str = "domain";
    let mut problems = Problems::default();
    if text.is_empty() {
        problems.add(F, FieldProblem::Empty);
    }
    length(&mut problems, F, text, MAX_ACCOUNT_FIELD);
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        problems.add(
            F,
            FieldProblem::BadCharacter {
                allowed: "[A-Za-z0-9_.-]",
            },
        );
    }
    problems.into_result()?;
    Ok(text.to_owned())
}

/// A password that meets the policy of rule A2: at least 8 characters (at most 256), with
/// a letter, a digit and a special character (anything not a letter, digit, space or
/// control character), and no control character. Every failing rule is named.
///
/// Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Checks `text` against the password policy.
    pub fn new(text: &str) -> Result<Password> {
        const F: &str = "password";
        let mut problems = Problems::default();
        let count = text.chars().count();
        if count < MIN_PASSWORD {
            problems.add(F, FieldProblem::TooShort { min: MIN_PASSWORD });
        }
        if count > MAX_PASSWORD {
            problems.add(F, FieldProblem::TooLong { max: MAX_PASSWORD });
        }
        if !text.chars().any(char::is_alphabetic) {
            problems.add(F, FieldProblem::NoLetter);
        }
        if !text.chars().any(|c| c.is_ascii_digit()) {
            problems.add(F, FieldProblem::NoDigit);
        }
        if !text.chars().any(is_special) {
            problems.add(F, FieldProblem::NoSpecial);
        }
        if text.chars().any(char::is_control) {
            problems.add(F, FieldProblem::ControlCharacter);
        }
        problems.into_result()?;
        Ok(Password(text.to_owned()))
    }

    /// The password's text, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn is_special(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control()
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A user's role (rule A1). It is held as membership of a cluster role (rule A4):
/// `superadmin` and `admin` are members of `{C}/admin`, `monitor` of `{C}/monitor`, `user`
/// of neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserRole {
    /// Administers the whole cluster.
    Superadmin,
    /// Administers the cluster (domains are plain attributes, so the same rights).
    Admin,
    /// An ordinary user.
    User,
    /// Sees users, keypairs, policies, sessions and the audit trail; changes nothing.
    Monitor,
}

impl UserRole {
    /// Every role.
    pub const ALL: [UserRole; 4] = [
        UserRole::Superadmin,
        UserRole::Admin,
        UserRole::User,
        UserRole::Monitor,
    ];

    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            UserRole::Superadmin => "superadmin",
            UserRole::Admin => "admin",
            UserRole::User => "user",
            UserRole::Monitor => "monitor",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(text: &str) -> Result<UserRole> {
        UserRole::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "invalid role `{}`: expected superadmin, admin, user or monitor",
                    clip(text)
                ))
            })
    }

    /// The last segment of the cluster role this role is held through, if any.
    pub const fn cluster_role(self) -> Option<&'static str> {
        match self {
            UserRole::Superadmin | UserRole::Admin => Some("admin"),
            UserRole::Monitor => Some("monitor"),
            UserRole::User => None,
        }
    }
}

impl fmt::Display for UserRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user's status (rule A1). Only `active` users pass checks and log in: the principal's
/// active flag is kept equal to `status == active`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserStatus {
    /// May log in.
    Active,
    /// Deactivated (rule A3).
    Inactive,
    /// Created, email not yet verified: may not log in.
    BeforeVerification,
}

impl UserStatus {
    /// The text form: `active`, `inactive`, `before-verification`.
    pub const fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Inactive => "inactive",
            UserStatus::BeforeVerification => "before-verification",
        }
    }

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<UserStatus> {
        match text {
            "active" => Ok(UserStatus::Active),
            "inactive" => Ok(UserStatus::Inactive),
            "before-verification" => Ok(UserStatus::BeforeVerification),
            _ => Err(Error::InvalidInput(format!(
                "invalid status `{}`: expected active, inactive or before-verification",
                clip(text)
            ))),
        }
    }

    /// Whether the user passes checks and logs in.
    pub const fn is_active(self) -> bool {
        matches!(self, UserStatus::Active)
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user's profile (rule A1), keyed by the user's principal name. There is no delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The username: the user's principal name.
    pub user: PrincipalName,
    /// The email, immutable.
    pub email: Email,
    /// The full name, at most 64 characters.
    pub full_name: String,
    /// The argon2id hash of the password.
    pub password: SecretHash,
    /// The role, held as cluster-role membership.
    pub role: UserRole,
    /// The status; the principal is active exactly when this is `active`.
    pub status: UserStatus,
    /// Descriptive only: the admin asks the user to change the password.
    pub need_password_change: bool,
    /// The domain, a plain attribute.
    pub domain: String,
    /// The resource policy (rule A6).
    pub policy: crate::policy::PolicyName,
    /// When it was created.
    pub created: Timestamp,
}

impl Account {
    /// The lowercase username uniqueness is decided on (rule A1).
    pub fn username_key(&self) -> String {
        username_key(&self.user)
    }
}

/// How to look an account up case-insensitively (rule A1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountKey {
    /// By lowercase email.
    Email(String),
    /// By lowercase username.
    Username(String),
}

/// A keypair's access key (rule A5): 4 to 64 characters of `[A-Za-z0-9]`. The engine makes
/// them as `AK` and 18 characters of `[A-Z0-9]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccessKey(String);

impl AccessKey {
    /// Validates `text` as an access key.
    pub fn new(text: &str) -> Result<AccessKey> {
        let ok = (4..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(AccessKey(text.to_owned()))
        } else {
            Err(one(
                "access key",
                FieldProblem::BadSyntax {
                    reason: "an access key is 4 to 64 characters of [A-Za-z0-9]",
                },
            ))
        }
    }

    /// Draws a fresh key from `entropy`.
    pub fn generate(entropy: &mut dyn Entropy) -> AccessKey {
        AccessKey(format!("AK{}", draw(entropy, UPPER_DIGITS, 18)))
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AccessKey {
    type Error = Error;
    fn try_from(text: String) -> Result<AccessKey> {
        AccessKey::new(&text)
    }
}

impl From<AccessKey> for String {
    fn from(key: AccessKey) -> String {
        key.0
    }
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `count` characters of `alphabet`, uniformly: bytes at or above the largest multiple of
/// the alphabet's size are drawn again.
fn draw(entropy: &mut dyn Entropy, alphabet: &[u8], count: usize) -> String {
    let size = alphabet.len().max(1);
    let cutoff = 256 - 256 % size;
    let mut out = String::with_capacity(count);
    let mut buf = [0u8; 64];
    while out.len() < count {
        entropy.fill(&mut buf);
        for byte in buf {
            if out.len() == count {
                break;
            }
            let byte = usize::from(byte);
            if byte < cutoff
                && let Some(&c) = alphabet.get(byte % size)
            {
                out.push(char::from(c));
            }
        }
    }
    out
}

/// A keypair's secret as created: 40 characters of `[A-Za-z0-9]`, shown once (rule A5)
/// and stored only as a hash. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Draws a fresh secret from `entropy`.
    pub fn generate(entropy: &mut dyn Entropy) -> Secret {
        Secret(draw(entropy, ALNUM, 40))
    }

    /// A secret opened from its sealed form (rule B1).
    pub(crate) fn from_opened(text: String) -> Secret {
        Secret(text)
    }

    /// The secret's text, to hand to its owner once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A keypair (rule A5): an access key of a user, its secret's hash (and, with a master
/// key, its sealed secret), an active flag and a resource policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keypair {
    /// The access key.
    pub access_key: AccessKey,
    /// The user it belongs to.
    pub user: PrincipalName,
    /// The argon2id hash of the secret.
    pub secret: SecretHash,
    /// The secret sealed with the master key, to verify request signatures (rule B1):
    /// `None` when the keypair was made while the platform had no master key, and then it
    /// cannot sign requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<crate::seal::SealedSecret>,
    /// Whether it authenticates.
    pub active: bool,
    /// Its resource policy (rule A6): the user's when created.
    pub policy: crate::policy::PolicyName,
    /// When it was created.
    pub created: Timestamp,
}

/// A group's attributes: a group is a role (kind group) and its members are the role
/// graph; the domain is a plain attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// The group's principal name.
    pub name: PrincipalName,
    /// Its domain.
    pub domain: String,
    /// When it was created.
    pub created: Timestamp,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn problems(result: Result<impl fmt::Debug>) -> Vec<FieldProblem> {
        match result {
            Err(Error::InvalidFields(found)) => found.into_iter().map(|f| f.problem).collect(),
            other => panic!("expected invalid fields, got {other:?}"),
        }
    }

    fn counter() -> impl FnMut(&mut [u8]) {
        let mut n = 0u8;
        move |buf: &mut [u8]| {
            for b in buf {
                *b = n;
                n = n.wrapping_add(37);
            }
        }
    }

    // rule A2: each password rule is named, and 7 characters are refused, 8 accepted
    #[test]
    fn password_rules_each_named() {
        let cases: &[(&str, &[FieldProblem])] = &[
            ("abc123!", &[FieldProblem::TooShort { min: 8 }]),
            ("abcd123!", &[]),
            ("abcdefg!", &[FieldProblem::NoDigit]),
            ("1234567!", &[FieldProblem::NoLetter]),
            ("abcd1234", &[FieldProblem::NoSpecial]),
            ("abcd 1234", &[FieldProblem::NoSpecial]),
            (
                "",
                &[
                    FieldProblem::TooShort { min: 8 },
                    FieldProblem::NoLetter,
                    FieldProblem::NoDigit,
                    FieldProblem::NoSpecial,
                ],
            ),
            (
                "abc",
                &[
                    FieldProblem::TooShort { min: 8 },
                    FieldProblem::NoDigit,
                    FieldProblem::NoSpecial,
                ],
            ),
            ("päss1wörd€", &[]),
            ("abcd123!\n", &[FieldProblem::ControlCharacter]),
        ];
        for (text, expected) in cases {
            let got = if expected.is_empty() {
                assert!(Password::new(text).is_ok(), "{text:?}");
                continue;
            } else {
                problems(Password::new(text))
            };
            assert_eq!(&got, expected, "{text:?}");
        }
        let long = format!("a1!{}", "x".repeat(MAX_PASSWORD - 3));
        assert!(Password::new(&long).is_ok());
        assert_eq!(
            problems(Password::new(&format!("{long}y"))),
            [FieldProblem::TooLong { max: MAX_PASSWORD }]
        );
        let err = Password::new("abc").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid input: password: it is shorter than 8 characters; password: it has no \
             digit; password: it has no special character"
        );
        assert!(!err.contains("abc"), "the password must not be echoed");
    }

    // rule A1: 64 characters accepted, 65 refused, for every length-limited field
    #[test]
    fn length_limits_at_the_boundary() {
        let cluster = ClusterName::new("c").unwrap();
        let at_64 = "a".repeat(64);
        let at_65 = "a".repeat(65);
        assert!(username(&at_64, &cluster).is_ok());
        assert_eq!(
            problems(username(&at_65, &cluster)),
            [FieldProblem::TooLong { max: 64 }]
        );
        assert!(full_name(&at_64).is_ok());
        assert_eq!(
            problems(full_name(&at_65)),
            [FieldProblem::TooLong { max: 64 }]
        );
        assert!(full_name("").is_ok());
        assert!(domain(&at_64).is_ok());
        assert_eq!(
            problems(domain(&at_65)),
            [FieldProblem::TooLong { max: 64 }]
        );
        // an email of exactly 64 and of 65 characters
        let email_64 = format!("{}@example.org", "e".repeat(64 - 12));
        assert_eq!(email_64.chars().count(), 64);
        assert!(Email::new(&email_64).is_ok());
        let email_65 = format!("e{email_64}");
        assert_eq!(
            problems(Email::new(&email_65)),
            [FieldProblem::TooLong { max: 64 }]
        );
    }

    // rule A1: email syntax, each failure named
    #[test]
    fn email_syntax() {
        for good in ["a@b.co", "first.last+tag@sub.example.org", "X_Y@A-B.io"] {
            assert!(Email::new(good).is_ok(), "{good}");
        }
        for bad in [
            "plain",
            "a@b@c.org",
            "@example.org",
            "a@localhost",
            "a..b@example.org",
            ".a@example.org",
            "a@-x.org",
            "a@x..org",
            "a b@example.org",
            "ä@example.org",
        ] {
            let found = problems(Email::new(bad));
            assert!(
                matches!(found.as_slice(), [FieldProblem::BadSyntax { .. }]),
                "{bad}: {found:?}"
            );
        }
        assert_eq!(problems(Email::new("")), [FieldProblem::Empty]);
        assert_eq!(
            Email::new("Ann@Example.ORG").unwrap().key(),
            "ann@example.org"
        );
    }

    // rule A1: the username charset is the principal one, in one segment
    #[test]
    fn username_charset() {
        let cluster = ClusterName::new("c").unwrap();
        assert!(username("Ann_B.c-9", &cluster).is_ok());
        for bad in ["a/b", "a b", "ä", "a@b"] {
            assert_eq!(
                problems(username(bad, &cluster)),
                [FieldProblem::BadCharacter {
                    allowed: "[A-Za-z0-9_.-]"
                }],
                "{bad}"
            );
        }
        assert_eq!(problems(username("", &cluster)), [FieldProblem::Empty]);
        assert!(matches!(
            problems(username("..", &cluster)).as_slice(),
            [FieldProblem::Reserved { .. }]
        ));
        assert!(matches!(
            problems(username("c", &cluster)).as_slice(),
            [FieldProblem::Reserved { .. }]
        ));
    }

    // rule A2: stored only as an argon2id hash, which verifies the password and nothing else
    #[test]
    fn hashing_round_trip() {
        let mut entropy = counter();
        let hash = SecretHash::hash("abcd123!", HashCost::minimum(), &mut entropy).unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$"));
        assert!(!hash.as_str().contains("abcd123!"));
        assert!(hash.verify("abcd123!"));
        assert!(!hash.verify("abcd123?"));
        assert_eq!(format!("{hash:?}"), "SecretHash(..)");
        let again = SecretHash::from_stored(hash.as_str()).unwrap();
        assert!(again.verify("abcd123!"));
        assert!(SecretHash::from_stored("plain").is_err());
        // a fresh salt each time
        let other = SecretHash::hash("abcd123!", HashCost::minimum(), &mut entropy).unwrap();
        assert_ne!(hash, other);
    }

    // rule A5: keys and secrets come from the caller's entropy, uniformly over their alphabet
    #[test]
    fn keys_and_secrets_from_entropy() {
        let mut entropy = counter();
        let key = AccessKey::generate(&mut entropy);
        assert_eq!(key.as_str().len(), 20);
        assert!(key.as_str().starts_with("AK"));
        assert!(AccessKey::new(key.as_str()).is_ok());
        let secret = Secret::generate(&mut entropy);
        assert_eq!(secret.expose().len(), 40);
        assert!(secret.expose().bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(format!("{secret:?}"), "Secret(..)");
        // all-0xff entropy is rejected by the cutoff only when above it: 255 >= 252 for 36
        let mut calls = 0;
        let mut skewed = |buf: &mut [u8]| {
            calls += 1;
            buf.fill(if calls == 1 { 255 } else { 1 });
        };
        assert_eq!(
            AccessKey::generate(&mut skewed).as_str(),
            format!("AK{}", "B".repeat(18))
        );
    }

    #[test]
    fn roles_and_statuses_round_trip() {
        for role in UserRole::ALL {
            assert_eq!(UserRole::parse(role.as_str()).unwrap(), role);
        }
        assert!(UserRole::parse("root").is_err());
        for status in [
            UserStatus::Active,
            UserStatus::Inactive,
            UserStatus::BeforeVerification,
        ] {
            assert_eq!(UserStatus::parse(status.as_str()).unwrap(), status);
        }
        assert_eq!(UserRole::Admin.cluster_role(), Some("admin"));
        assert_eq!(UserRole::Superadmin.cluster_role(), Some("admin"));
        assert_eq!(UserRole::Monitor.cluster_role(), Some("monitor"));
        assert_eq!(UserRole::User.cluster_role(), None);
    }
}
