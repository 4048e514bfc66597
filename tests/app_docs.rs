//! docs/app-developers.md promises that every Rust snippet is taken from a compiled example:
//! each ```rust block must appear, line by line (indentation aside), in examples/sensor_app.rs,
//! so the page cannot drift from code that builds (and whose paths tests/drivers.rs runs).

const PAGE: &str = include_str!("../docs/app-developers.md");
const EXAMPLE: &str = include_str!("../examples/sensor_app.rs");

fn rust_blocks(markdown: &str) -> Vec<Vec<&str>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim()) {
            (None, "```rust") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), text) => block.push(text),
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_rust_snippet_of_the_app_page_is_in_the_example() {
    let example: Vec<&str> = EXAMPLE.lines().map(str::trim).collect();
    let blocks = rust_blocks(PAGE);
    assert!(blocks.len() >= 4, "the page lost its Rust snippets: {blocks:?}");
    for block in blocks {
        let found = example.windows(block.len()).any(|window| window == block.as_slice());
        assert!(found, "not in examples/sensor_app.rs:\n{}", block.join("\n"));
    }
}

#[test]
fn a_snippet_that_is_not_in_the_example_is_caught() {
    let page = "text\n```rust\nlet x = 1;\n```\n";
    let example: Vec<&str> = EXAMPLE.lines().map(str::trim).collect();
    let block = &rust_blocks(page)[0];
    assert_eq!(block, &vec!["let x = 1;"]);
    assert!(!example.windows(block.len()).any(|window| window == block.as_slice()));
}
