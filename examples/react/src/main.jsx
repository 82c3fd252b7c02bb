import { StrictMode, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Link, Route, Routes, useParams } from 'react-router';
import { startSpoor } from './spoor.js';

function Item() {
  const { id } = useParams();
  return (
    <>
      <h1>Item {id}</h1>
      <button type="button" onClick={() => startSpoor().track('item-liked', { id })}>
        Like
      </button>
    </>
  );
}

function App() {
  // StrictMode runs effects twice in development: the second init() gets the tracker of the first
  // (the debug log says "reused"). No stop() in a cleanup: the tracker lives as long as the page.
  useEffect(() => {
    startSpoor();
  }, []);
  return (
    <BrowserRouter>
      <nav>
        <Link to="/">Home</Link> · <Link to="/about">About</Link> · <Link to="/items/42">Item 42</Link>
      </nav>
      <main>
        <Routes>
          <Route path="/" element={<h1>Home</h1>} />
          <Route path="/about" element={<h1>About</h1>} />
          <Route path="/items/:id" element={<Item />} />
        </Routes>
      </main>
    </BrowserRouter>
  );
}

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
