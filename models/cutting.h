// Cutting a stretch (of sound, of ink) into words or digits: the best of many cuttings, chosen
// by dynamic programming. models::cut_run_together and models::cut_touching score the pieces.
#pragma once
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

namespace duet::models {

// Points 0..m along a stretch; `pieces` (i, j), i < j <= m, the pieces a cutting may hold, in order
// of i, each with its score. The cutting of [0, m) whose pieces' scores sum highest, as its pieces
// (i, j) in order; ties go to the piece found first. Where no cutting reaches m, {(0, m)}.
inline std::vector<std::pair<size_t, size_t>> best_cutting(size_t m,
                                                           const std::vector<std::pair<size_t, size_t>>& pieces,
                                                           const std::vector<double>& scores) {
  // best[j]: the best score of a cutting of [0, j); back[j]: where its last piece starts.
  std::vector<double> best(m + 1, -std::numeric_limits<double>::infinity());
  std::vector<size_t> back(m + 1, 0);
  best[0] = 0;
  for (size_t p = 0; p < pieces.size(); ++p) {  // every piece ending at i comes before those starting there
    const auto [i, j] = pieces[p];
    if (best[i] + scores[p] > best[j]) best[j] = best[i] + scores[p], back[j] = i;
  }
  std::vector<std::pair<size_t, size_t>> cut;
  for (size_t j = m; j > 0; j = back[j]) cut.insert(cut.begin(), {back[j], j});
  return cut;
}

}  // namespace duet::models
