#pragma once

// The infsh app library: write inference.sh apps in C++.
//
//   #include <infsh/infsh.hpp>
//
//   struct Input { std::string name; };
//   INFSH_MODEL(Input, INFSH_FIELD(name).description("Who to greet"))
//
//   struct Output : infsh::BaseAppOutput { std::string greeting; };
//   INFSH_MODEL(Output, INFSH_FIELD(greeting).description("The greeting"))
//
//   class Hello : public infsh::BaseApp {
//    public:
//     Output run(const Input& in, infsh::Context&) { return {{}, "Hello, " + in.name + "!"}; }
//   };
//   INFSH_MAIN(Hello)

#include "infsh/app_definition.hpp"
#include "infsh/app_host.hpp"
#include "infsh/base_app.hpp"
#include "infsh/context.hpp"
#include "infsh/errors.hpp"
#include "infsh/file.hpp"
#include "infsh/llm.hpp"
#include "infsh/model.hpp"
#include "infsh/output_meta.hpp"
#include "infsh/program.hpp"
#include "infsh/version.hpp"
