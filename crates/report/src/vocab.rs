//! Normalization of enumerated values: case folding, known aliases, and unknown words.

use std::borrow::Cow;

/// An enumerated value as the reporter wrote it (`raw`, trimmed) and as rua understands it
/// (`value`). `value` is `None` when the element was absent, empty, `nil`, or unknown; an
/// unknown value keeps its text in `raw` and produces a warning. A canonical value borrows
/// its spelling, so the common case allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coded<T> {
    pub raw: Option<Cow<'static, str>>,
    pub value: Option<T>,
}

impl<T> Default for Coded<T> {
    fn default() -> Self {
        Self {
            raw: None,
            value: None,
        }
    }
}

impl<T: Vocabulary> Coded<T> {
    /// The normalized spelling, e.g. `"pass"`.
    pub fn as_str(&self) -> Option<&'static str> {
        self.value.map(T::as_str)
    }
}

/// A closed set of words with known aliases.
pub trait Vocabulary: Copy + Sized + 'static {
    /// Every canonical value.
    fn all() -> &'static [Self];
    /// The canonical, lower-case spelling.
    fn as_str(self) -> &'static str;
    /// Non-canonical words that real reporters use, with their meaning.
    fn aliases() -> &'static [(&'static str, Self)] {
        &[]
    }
}

/// How a raw word was understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading<T> {
    /// Empty or `nil`: no value.
    Empty,
    /// The canonical word, possibly in another case (`Pass`).
    Canonical {
        value: T,
        is_case_folded: bool,
    },
    /// A known alias (`hardfail` for `fail`).
    Alias(T),
    Unknown,
}

pub(crate) fn read_word<T: Vocabulary>(raw: &str) -> Reading<T> {
    if raw.is_empty() || raw.eq_ignore_ascii_case("nil") || raw.eq_ignore_ascii_case("null") {
        return Reading::Empty;
    }
    for &value in T::all() {
        let word = value.as_str();
        if raw == word {
            return Reading::Canonical {
                value,
                is_case_folded: false,
            };
        }
        if raw.eq_ignore_ascii_case(word) {
            return Reading::Canonical {
                value,
                is_case_folded: true,
            };
        }
    }
    for &(alias, value) in T::aliases() {
        if raw.eq_ignore_ascii_case(alias) {
            return Reading::Alias(value);
        }
    }
    Reading::Unknown
}

/// Defines a closed set of words as an enum with its canonical spellings and the aliases
/// real reporters use, all in one place, and implements [`Vocabulary`] and `Display` for it.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }
        $(aliases { $($alias:literal => $value:ident),* $(,)? })?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::vocab::Vocabulary for $name {
            fn all() -> &'static [Self] {
                $name::ALL
            }
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn aliases() -> &'static [(&'static str, Self)] {
                &[$($(($alias, $name::$value)),*)?]
            }
        }
    };
}
pub(crate) use vocabulary;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{AuthResult, Policy, Verdict};

    #[test]
    fn words_are_read_with_case_and_aliases() {
        assert_eq!(
            read_word::<AuthResult>("pass"),
            Reading::Canonical {
                value: AuthResult::Pass,
                is_case_folded: false
            }
        );
        assert_eq!(
            read_word::<AuthResult>("SoftFail"),
            Reading::Canonical {
                value: AuthResult::SoftFail,
                is_case_folded: true
            }
        );
        assert_eq!(
            read_word::<AuthResult>("HardFail"),
            Reading::Alias(AuthResult::Fail)
        );
        assert_eq!(
            read_word::<AuthResult>("unknown"),
            Reading::Alias(AuthResult::TempError)
        );
        assert_eq!(
            read_word::<AuthResult>("error"),
            Reading::Alias(AuthResult::PermError)
        );
        assert_eq!(read_word::<Policy>("nil"), Reading::Empty);
        assert_eq!(read_word::<Policy>(""), Reading::Empty);
        assert_eq!(read_word::<Policy>("pass"), Reading::Unknown);
        assert_eq!(
            read_word::<Verdict>("softfail"),
            Reading::Alias(Verdict::Fail)
        );
    }
}
