"""eval --inputs --number: the summary (--json) agrees with the readings it lists (OUT/inputs.csv).

Usage: check_number_eval.py SUMMARY.json INPUTS.csv. Exits 1, saying what disagrees, when the share of numbers
read right, of numbers whose digits were all found, or of those digits read right, or the wrong list, is not what
the rows give.
"""
import csv
import json
import sys

summary = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
found = [r for r in rows if len(r['read']) == len(r['number'])]
digits = sum(len(r['number']) for r in found)
right = sum(a == b for r in found for a, b in zip(r['number'], r['read']))
want = {
    'count': len(rows),
    'accuracy': sum(r['read'] == r['number'] for r in rows) / len(rows),
    'count_right': len(found) / len(rows),
    'digit_accuracy': right / digits if digits else 0.0,
    'errors': sum(r['read'] != r['number'] for r in rows),
}
problems = [f'{k}: summary {summary[k]}, rows {v}' for k, v in want.items() if abs(summary[k] - v) > 1e-9]
wrong = {(w['file'], w['number'], w['read']) for w in summary['wrong']}
if wrong != {(r['file'], r['number'], r['read']) for r in rows if r['read'] != r['number']}:
    problems.append(f'wrong list {sorted(wrong)} is not the rows read wrong')
for p in problems:
    print('check_number_eval:', p)
sys.exit(1 if problems else 0)
