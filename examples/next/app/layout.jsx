import Link from 'next/link';
import Spoor from './spoor';

export const metadata = { title: 'Spoor with Next.js' };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>
        <nav>
          <Link href="/">Home</Link> · <Link href="/about">About</Link> ·{' '}
          <Link href="/items/42">Item 42</Link>
        </nav>
        <main>{children}</main>
        <Spoor />
      </body>
    </html>
  );
}
