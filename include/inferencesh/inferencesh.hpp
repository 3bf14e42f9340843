#pragma once

/// Everything of the inferencesh client library.
#include "inferencesh/async_client.hpp"
#include "inferencesh/cancellation.hpp"
#include "inferencesh/client.hpp"
#include "inferencesh/client_options.hpp"
#include "inferencesh/errors.hpp"
#include "inferencesh/files.hpp"
#include "inferencesh/future.hpp"
#include "inferencesh/log_level.hpp"
#include "inferencesh/run_params.hpp"
#include "inferencesh/sessions.hpp"
#include "inferencesh/task.hpp"
#include "inferencesh/task_status.hpp"
#include "inferencesh/task_stream.hpp"
#include "inferencesh/tasks.hpp"
#include "inferencesh/transport.hpp"
#include "inferencesh/version.hpp"
