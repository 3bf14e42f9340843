// The "hello world" of inference.sh apps in C++: one typed input, one typed output.
//
//   hello run --input '{"name": "Ada"}'     →  {"greeting": "Hello, Ada!", "output_meta": null}
//   hello schema --out-dir schemas          →  the schema files the platform reads

#include <infsh/infsh.hpp>

struct Input {
  std::string name;
  bool excited = false;
};
INFSH_MODEL(Input, INFSH_FIELD(name).description("Who to greet").min_length(1).examples({"Ada"}),
            INFSH_FIELD(excited).description("End with an exclamation mark").with_default())

struct Output : infsh::BaseAppOutput {
  std::string greeting;
};
INFSH_MODEL(Output, INFSH_FIELD(greeting).description("The greeting"))

class Hello : public infsh::BaseApp {
 public:
  Output run(const Input& input, infsh::Context& context) {
    context.log("greeting " + input.name);
    return {{}, "Hello, " + input.name + (input.excited ? "!" : ".")};
  }
};

INFSH_MAIN(Hello)
