#[derive(Clone)]
struct NotAProgram;

fn main() {
    let edges = vec![(0u64, 1u64)];
    let _job = weir::stream! {
        source iter(edges)
        |> iterate(graph(|e: &(u64, u64)| *e), rounds(10), NotAProgram)
        |> collect()
    };
}
