//! Crate-internal macros for the small newtypes that recur across modules.
//! They keep Display / FromStr / serde consistent: a validated string travels as a plain string.

/// Implements `Display`, `FromStr` and serde for any type that has
/// `fn parse(&str) -> Result<Self, $err>` and `fn as_str(&self) -> &str` (codes kept in
/// fixed arrays as well as strings). Deserialising re-runs `parse`, so a value that breaks
/// the rules never gets in through IPC or sync either.
macro_rules! text_value {
    ($ty:ident, $err:ty) => {
        impl ::core::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for $ty {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let raw = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&raw).map_err(<D::Error as ::serde::de::Error>::custom)
            }
        }
    };
}

/// [`text_value!`] plus `AsRef<str>`, `TryFrom<String>` and `From<T> for String`, for a
/// newtype `$ty(String)`.
macro_rules! validated_string {
    ($ty:ident, $err:ty) => {
        text_value!($ty, $err);

        impl ::core::convert::AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::core::convert::TryFrom<String> for $ty {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl ::core::convert::From<$ty> for String {
            fn from(value: $ty) -> String {
                value.0
            }
        }
    };
}

/// Implements `Display` for a fieldless enum from a `fn label(self) -> &'static str`.
macro_rules! display_from_label {
    ($ty:ident) => {
        impl ::core::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}
