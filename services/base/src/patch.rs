//! Partial updates: a patch names the fields it changes, and applying it to a
//! copy keeps what was there before, for the write and for the activity log.

/// A partial update of `T`: each field it names replaces the target's.
pub trait Patch<T> {
    fn apply(self, target: &mut T);
}

/// `before` with `patch` applied; `before` stays as it was.
pub fn patched<T: Clone>(before: &T, patch: impl Patch<T>) -> T {
    let mut after = before.clone();
    patch.apply(&mut after);
    after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Act {
        name: String,
        fee: Option<u64>,
    }

    struct ActPatch {
        name: Option<String>,
        fee: Option<Option<u64>>,
    }

    impl Patch<Act> for ActPatch {
        fn apply(self, target: &mut Act) {
            if let Some(name) = self.name {
                target.name = name;
            }
            if let Some(fee) = self.fee {
                target.fee = fee;
            }
        }
    }

    #[test]
    fn only_named_fields_change_and_the_original_is_kept() {
        let before = Act { name: "The Band".into(), fee: Some(500) };
        let after = patched(&before, ActPatch { name: None, fee: Some(None) });
        assert_eq!(after, Act { name: "The Band".into(), fee: None }, "a named null clears");
        assert_eq!(before.fee, Some(500), "before is what the activity log shows");
    }
}
