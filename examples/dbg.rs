fn main() {
    let e = serde_yaml::from_str::<serde_yaml::Value>("version: 1\npool: [\n").unwrap_err();
    println!("{e} | {:?}", e.location());
    let e = serde_yaml::from_str::<serde_yaml::Value>("version: 1\n  pool: x\n").unwrap_err();
    println!("{e} | {:?}", e.location());
}
