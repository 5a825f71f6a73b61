import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auc, aucByGroup, brier, classificationMetrics, ece, prAuc, reliabilityCurve, rocCurve } from '../../models/metrics';

// The scikit-learn documentation example: roc_auc_score = 0.75, average_precision_score = 0.8333.
const P = [0.1, 0.4, 0.35, 0.8];
const Y = [0, 0, 1, 1];

describe('auc', () => {
  it('matches the hand-computed value', () => {
    // Pairs (pos, neg): (0.35, 0.1) ✓, (0.35, 0.4) ✗, (0.8, 0.1) ✓, (0.8, 0.4) ✓ → 3/4.
    expect(auc(P, Y)).toBeCloseTo(0.75, 12);
  });

  it('counts a tie between a positive and a negative as one half', () => {
    // Pairs: (0.5, 0.5) tie ½, (0.5, 0.2) ✓, (0.9, 0.5) ✓, (0.9, 0.2) ✓ → 3.5/4.
    expect(auc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1])).toBeCloseTo(0.875, 12);
    // All scores equal: every pair is a tie.
    expect(auc([0.3, 0.3, 0.3, 0.3], [1, 0, 1, 0])).toBeCloseTo(0.5, 12);
  });

  it('is 1 for a perfect ranking, 0 for a reversed one, NaN for a single class', () => {
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(auc([0.1, 0.2], [1, 1])).toBeNaN();
    expect(auc([], [])).toBeNaN();
  });

  it('equals the pairwise definition on random data with ties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()), { minLength: 2, maxLength: 40 }),
        (rows) => {
          const p = rows.map(([s]) => s / 5);
          const y = rows.map(([, label]) => (label ? 1 : 0));
          let wins = 0;
          let pairs = 0;
          for (let i = 0; i < p.length; i += 1) {
            for (let j = 0; j < p.length; j += 1) {
              if (y[i] === 1 && y[j] === 0) {
                pairs += 1;
                wins += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0;
              }
            }
          }
          const value = auc(p, y);
          if (pairs === 0) expect(value).toBeNaN();
          else expect(value).toBeCloseTo(wins / pairs, 12);
        },
      ),
    );
  });
});

describe('prAuc (average precision)', () => {
  it('matches the hand-computed value', () => {
    // Descending: 0.8 (+) R=½ P=1; 0.4 (−) R=½; 0.35 (+) R=1 P=⅔ → ½·1 + ½·⅔ = 0.8333.
    expect(prAuc(P, Y)).toBeCloseTo(5 / 6, 12);
  });

  it('lets tied scores enter together', () => {
    // 0.9 (+) R=½ P=1; the tie at 0.5 (+, −) R=1 P=⅔ → 0.8333, whatever the order of the tied rows.
    expect(prAuc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1])).toBeCloseTo(5 / 6, 12);
    expect(prAuc([0.5, 0.5, 0.2, 0.9], [0, 1, 0, 1])).toBeCloseTo(5 / 6, 12);
  });

  it('is 1 for a perfect ranking and NaN without positives', () => {
    expect(prAuc([0.1, 0.9], [0, 1])).toBe(1);
    expect(prAuc([0.1, 0.9], [0, 0])).toBeNaN();
  });
});

describe('brier and ece', () => {
  it('brier is the mean squared error', () => {
    expect(brier([0.1, 0.9, 0.8], [0, 1, 0])).toBeCloseTo((0.01 + 0.01 + 0.64) / 3, 12);
    expect(brier([1, 0], [1, 0])).toBe(0);
  });

  it('ece weighs each of 10 equal-width bins by its rows', () => {
    // Bin 0: {0.05}, observed 0 → 0.05·1; bin 1: {0.15, 0.15}, observed ½ → 0.35·2; bin 9: {0.95}, observed 1 → 0.05·1.
    expect(ece([0.05, 0.15, 0.15, 0.95], [0, 0, 1, 1])).toBeCloseTo((0.05 + 0.7 + 0.05) / 4, 12);
    // Perfectly calibrated bins.
    expect(ece([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBeCloseTo(0, 12);
  });

  it('puts p = 0.1 in the second bin and p = 1 in the last', () => {
    const bins = reliabilityCurve([0, 0.1, 0.999, 1], [0, 0, 1, 1]);
    expect(bins).toHaveLength(10);
    expect(bins.map((b) => b.count)).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect(bins[2]).toMatchObject({ lower: 0.2, count: 0, meanPredicted: null, observedRate: null });
    expect(bins[9]!.meanPredicted).toBeCloseTo(0.9995, 12);
    expect(bins[9]!.observedRate).toBe(1);
  });
});

describe('classificationMetrics and aucByGroup', () => {
  it('reports every metric with rows and positives', () => {
    const m = classificationMetrics(P, Y);
    expect(m.auc).toBeCloseTo(0.75, 12);
    expect(m.prAuc).toBeCloseTo(5 / 6, 12);
    expect(m.brier).toBeCloseTo(brier(P, Y), 12);
    expect(m.ece).toBeCloseTo(ece(P, Y), 12);
    expect(m).toMatchObject({ rows: 4, positives: 2 });
  });

  it('gives each group its own AUC and null to a single-class group', () => {
    const p = [0.1, 0.4, 0.35, 0.8, 0.3, 0.6, 0.2];
    const y = [0, 0, 1, 1, 1, 1, 0];
    const groups = ['gold', 'gold', 'gold', 'gold', 'silver', 'silver', 'platinum'];
    expect(aucByGroup(p, y, groups)).toEqual({ gold: 0.75, platinum: null, silver: null });
  });

  it('refuses arrays of different lengths', () => {
    expect(() => auc([0.1], [0, 1])).toThrow(RangeError);
    expect(() => aucByGroup([0.1, 0.2], [0, 1], ['a'])).toThrow(RangeError);
  });
});

describe('rocCurve', () => {
  it('walks from (0, 0) to (1, 1) through every distinct threshold', () => {
    expect(rocCurve(P, Y).map(({ fpr, tpr }) => [fpr, tpr])).toEqual([
      [0, 0],
      [0, 0.5],
      [0.5, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
    expect(rocCurve(P, Y)[0]!.threshold).toBeNull();
    expect(rocCurve([0.1, 0.2], [1, 1])).toEqual([]);
  });

  it('thins a long curve for display, keeping both ends and the shape', () => {
    const n = 5000;
    const p = Array.from({ length: n }, (_, i) => ((i * 7919) % n) / n);
    const y = p.map((v, i) => (v + ((i * 31) % 100) / 150 > 0.8 ? 1 : 0));
    const curve = rocCurve(p, y, 101);
    expect(curve.length).toBeLessThanOrEqual(101);
    expect(curve.length).toBeGreaterThan(60);
    expect(curve[0]).toMatchObject({ fpr: 0, tpr: 0 });
    expect(curve[curve.length - 1]).toMatchObject({ fpr: 1, tpr: 1 });
    // The trapezoid area under the thinned curve stays close to the exact AUC.
    let area = 0;
    for (let i = 1; i < curve.length; i += 1) area += (curve[i]!.fpr - curve[i - 1]!.fpr) * (curve[i]!.tpr + curve[i - 1]!.tpr) / 2;
    expect(area).toBeCloseTo(auc(p, y), 2);
  });
});
