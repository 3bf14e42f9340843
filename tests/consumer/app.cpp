// An inference.sh app built against the installed app library (inferencesh::infsh): a typed
// model, a BaseApp and INFSH_MAIN, as a user's project would write them.
#include <infsh/infsh.hpp>

struct Input {
  int a = 0;
  int b = 0;
};
INFSH_MODEL(Input, INFSH_FIELD(a).description("First addend"),
            INFSH_FIELD(b).description("Second addend").minimum(0))

struct Output : infsh::BaseAppOutput {
  int sum = 0;
};
INFSH_MODEL(Output, INFSH_FIELD(sum).description("a + b"))

class Adder : public infsh::BaseApp {
 public:
  Output run(const Input& input, infsh::Context&) { return {{}, input.a + input.b}; }
};

INFSH_MAIN(Adder)
