// The shop's products. Plain data, so that every page renders the same catalogue without a backend.

/** @typedef {{ id: string, name: string, price: number, blurb: string, description: string, specs: [string, string][] }} Product */

/** @type {Product[]} */
export const products = [
  {
    id: 'enamel-mug',
    name: 'Enamel Camp Mug',
    price: 2400,
    blurb: 'Speckled steel, 350 ml, survives the fire ring.',
    description:
      'A mug for the first coffee of the morning, hand-dipped in enamel over carbon steel. It takes a knock, rides on the outside of a pack, and warms your hands while the kettle gets going.',
    specs: [
      ['Capacity', '350 ml'],
      ['Material', 'Enamel on steel'],
      ['Weight', '180 g'],
    ],
  },
  {
    id: 'wool-blanket',
    name: 'Fernwood Wool Blanket',
    price: 14800,
    blurb: 'Heavy merino twill, woven in a small mill.',
    description:
      'Tightly woven merino twill in our rust and cream stripe. Warm on a cold porch, light enough for the car, and it only gets better with years of use.',
    specs: [
      ['Size', '150 × 200 cm'],
      ['Material', '100% merino'],
      ['Weight', '1.4 kg'],
    ],
  },
  {
    id: 'camp-lantern',
    name: 'Brass Camp Lantern',
    price: 6900,
    blurb: 'Warm light, USB-C, twelve hours on low.',
    description:
      'A rechargeable lantern with a dimmable, candle-warm glow and a solid brass handle. Hang it from the tent ridge or set it on the table for dinner outside.',
    specs: [
      ['Battery', '12 h on low'],
      ['Charging', 'USB-C'],
      ['Weight', '420 g'],
    ],
  },
  {
    id: 'cedar-stool',
    name: 'Cedar Three-Leg Stool',
    price: 9500,
    blurb: 'Folds flat, sits steady on any ground.',
    description:
      'Three legs never wobble, whatever the ground. Western red cedar, oiled by hand, with brass fittings; it folds flat to ride along in the boot.',
    specs: [
      ['Height', '42 cm'],
      ['Wood', 'Western red cedar'],
      ['Weight', '1.9 kg'],
    ],
  },
  {
    id: 'field-journal',
    name: 'Waxed Field Journal',
    price: 1800,
    blurb: 'Water-resistant cover, 160 dotted pages.',
    description:
      'For notes, sketches and the names of the birds you saw. Waxed cotton cover, lay-flat binding, and paper that takes pencil and fountain pen alike.',
    specs: [
      ['Pages', '160, dotted'],
      ['Size', 'A5'],
      ['Cover', 'Waxed cotton'],
    ],
  },
  {
    id: 'trail-pack',
    name: 'Canvas Trail Pack',
    price: 12900,
    blurb: 'Waxed canvas, leather straps, 22 litres.',
    description:
      'A day pack in waxed canvas with a roll top, a padded laptop sleeve and leather straps that age well. Big enough for lunch, a layer and the journal.',
    specs: [
      ['Volume', '22 l'],
      ['Material', 'Waxed canvas'],
      ['Weight', '950 g'],
    ],
  },
];

/** @param {string | null} id */
export function findProduct(id) {
  return products.find((product) => product.id === id);
}

/** @param {number} cents */
export function formatPrice(cents) {
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'EUR' }).format(cents / 100);
}

/** @param {Product} product */
export function imageOf(product) {
  return `/img/${product.id}.svg`;
}
