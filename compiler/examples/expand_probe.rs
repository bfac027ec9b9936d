fn main() {
    let src = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    match weir_compiler::inline::expand_pretty(&src) {
        Ok(s) => println!("{s}"),
        Err(e) => println!("ERR {e}"),
    }
}
