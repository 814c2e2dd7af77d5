//! Checking badge signatures, in batches when the door is busy.
//!
//! Checking one Ed25519 signature costs a double scalar multiplication; checking many at
//! once made with the same key (all badges of an organization are) costs little more than
//! one multiplication in all, plus a point decompression each. So scans hand their
//! signature to one task, which checks whatever has queued up while it was busy as one
//! batch. A batch that fails says only that some signature in it is bad: then each is
//! checked on its own, and that answer is the one given. A batch passes only if every
//! signature in it was made with its key (the batch equation is the cofactored ZIP 215
//! one, which may accept a few encodings the single check refuses, but never a signature
//! made without the private key).

use ed25519_dalek::VerifyingKey;
use haven_app::api::AppError;
use haven_app::domain::badge::BadgeToken;
use tokio::sync::{mpsc, oneshot};

/// At most this many signatures are checked together (a batch takes well under a
/// millisecond, so no scan waits long behind one).
const MAX_BATCH: usize = 64;

/// How often the checker steps aside for other tasks, gathering more signatures, before
/// it checks what it has.
const GATHER_ROUNDS: usize = 4;

/// A badge and the key its signature must have been made with.
#[derive(Debug, Clone)]
pub struct SignatureCheck {
    pub token: BadgeToken,
    pub key: VerifyingKey,
}

impl SignatureCheck {
    /// The single check, whose answer is the one that counts.
    fn holds(&self) -> bool {
        self.token.verify(&self.key)
    }
}

type Job = (SignatureCheck, oneshot::Sender<bool>);

/// The way to the task that checks signatures.
#[derive(Clone)]
pub struct SignatureChecker {
    tx: mpsc::Sender<Job>,
}

impl SignatureChecker {
    pub fn start() -> SignatureChecker {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        tokio::spawn(async move {
            let mut jobs = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
                // Let the scans already running reach their check before starting.
                for _ in 0..GATHER_ROUNDS {
                    if jobs.len() >= MAX_BATCH {
                        break;
                    }
                    tokio::task::yield_now().await;
                    while jobs.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                }
                let (checks, answers): (Vec<_>, Vec<_>) = jobs.drain(..).unzip();
                for (answer, holds) in answers.into_iter().zip(check_all(&checks)) {
                    let _ = answer.send(holds);
                }
            }
        });
        SignatureChecker { tx }
    }

    /// Whether the signature was made with the key over the message.
    pub async fn check(&self, check: SignatureCheck) -> Result<bool, AppError> {
        let (done, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError((check, _))) = self.tx.send((check, done)).await {
            return Ok(check.holds());
        }
        answer.await.map_err(|_| AppError::Internal)
    }
}

/// Whether each signature holds.
pub fn check_all(checks: &[SignatureCheck]) -> Vec<bool> {
    if checks.len() > 1 {
        let mut batch = ed25519_zebra::batch::Verifier::new();
        for c in checks {
            let key = ed25519_zebra::VerificationKeyBytes::from(c.key.to_bytes());
            let message = c.token.claims.payload();
            batch.queue((key, c.token.signature(), &message));
        }
        if batch.verify(rand::thread_rng()).is_ok() {
            return vec![true; checks.len()];
        }
    }
    checks.iter().map(SignatureCheck::holds).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use haven_app::domain::badge::BadgeClaims;
    use uuid::Uuid;

    fn badge(key: &SigningKey, n: i64) -> BadgeToken {
        let claims = BadgeClaims { event: Uuid::new_v4(), badge: Uuid::new_v4(), issued_at: n, key_id: 1 };
        BadgeToken::parse(&claims.token(&key.sign(&claims.payload()).to_bytes())).unwrap()
    }

    #[test]
    fn a_batch_names_exactly_the_signatures_that_do_not_hold() {
        let (ours, other) = (SigningKey::from_bytes(&[7u8; 32]), SigningKey::from_bytes(&[8u8; 32]));
        let mut checks: Vec<SignatureCheck> =
            (0..40).map(|n| SignatureCheck { token: badge(&ours, n), key: ours.verifying_key() }).collect();
        assert_eq!(check_all(&checks), vec![true; 40]);
        // Signed by another key, claimed for ours; and a changed claim under a good signature.
        checks[5].token = badge(&other, 5);
        checks[17].token.claims.issued_at += 1;
        // A batch of two keys, one of them the other's.
        checks[30].key = other.verifying_key();
        checks[30].token = badge(&other, 30);
        let holds = check_all(&checks);
        let expected: Vec<bool> = (0..40).map(|n| n != 5 && n != 17).collect();
        assert_eq!(holds, expected);
        assert_eq!(check_all(&checks[5..6]), vec![false]);
        assert_eq!(check_all(&checks[..0]), Vec::<bool>::new());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn scans_checked_at_once_each_get_their_own_answer() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let checker = SignatureChecker::start();
        let mut running = tokio::task::JoinSet::new();
        for n in 0..200 {
            let mut check = SignatureCheck { token: badge(&key, n), key: key.verifying_key() };
            if n % 7 == 3 {
                check.token.claims.badge = Uuid::new_v4();
            }
            let checker = checker.clone();
            running.spawn(async move { (n, checker.check(check).await.unwrap()) });
        }
        while let Some(done) = running.join_next().await {
            let (n, holds) = done.unwrap();
            assert_eq!(holds, n % 7 != 3, "badge {n}");
        }
    }
}
