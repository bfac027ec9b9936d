//! `stream!` mistakes, each in `tests/ui/*.rs`, compiled by trybuild; the expected
//! messages (with the user's line and column, the user's tokens underlined) are in the
//! `.stderr` files beside them. `TRYBUILD=overwrite cargo test --test compile_fail`
//! rewrites them; read every one before committing.

#[test]
fn stream_macro_mistakes_are_reported_at_the_users_tokens() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
