// `#[tasklet]` on a method (a function taking `self`): it goes on free functions only.
use concurrence::tasklet;

struct Server;

impl Server {
    #[tasklet]
    fn serve(&self) {}
}

fn main() {}
